"""The lab's sub-commands of ``peephole``, read through the ``peephole.commands`` entry point."""

from peephole_lab.cli import backdoor, backdoor_eval, explainer, explainer_digits, fill_in, saliency, train_mnist, zoo

COMMANDS = [train_mnist, saliency, backdoor, fill_in, explainer, explainer_digits, zoo, backdoor_eval]
