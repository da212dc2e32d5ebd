"""The lab plugs in through entry points: its methods and commands are listed, and a lab command whose
dependency is missing says which extra to install."""

from __future__ import annotations

import contextlib
import subprocess
import sys

from peephole.cli import main
from peephole.registry import METHODS

LAB_COMMANDS = ("train-mnist", "saliency", "backdoor", "fill-in", "explainer", "explainer-digits", "zoo", "backdoor-eval")


def test_the_lab_methods_come_from_its_entry_point_with_their_extra() -> None:
    for name in ("input-agnostic", "fill-in-the-blanks", "explainer"):
        spec = METHODS[name]
        assert spec.target.startswith("peephole_lab.") and ("torch", "lab") in spec.requires


def test_every_lab_command_is_listed(capsys) -> None:
    with contextlib.suppress(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert all(c in listed for c in LAB_COMMANDS)


def test_a_lab_command_without_torch_names_the_extra(tmp_path) -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"  # import torch now raises ModuleNotFoundError
        "from peephole.cli import main\n"
        f"sys.exit(main(['train-mnist', {str(tmp_path / 'm.pt')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "pip install 'peephole[lab]'" in done.stderr and "'torch'" in done.stderr
    assert "Traceback" not in done.stderr
