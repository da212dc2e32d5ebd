"""The lab's tests need the ``lab`` extra (torch). Without it they are not collected, and
``test_lab_extra.py`` reports one skip with the install line; CI installs it (README's test command)."""

import importlib.util

LAB_INSTALLED = importlib.util.find_spec("torch") is not None
collect_ignore_glob = [] if LAB_INSTALLED else ["systems/*", "data/*", "test_lab_cli.py"]
