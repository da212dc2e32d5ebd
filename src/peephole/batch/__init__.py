"""Explaining whole datasets: resumable runs in an embedded store, a local or Ray engine, an HTML report.

```pycon
>>> run = peephole.run("efficientnet-lite0", "photos/", method="pami", out="runs/photos")
>>> summary = run.complete()          # or: for result in run: ...
>>> peephole.batch.open_run("runs/photos").load("cat.jpg")     # any item's Explanation
```
"""

from peephole.batch.datasets import Dataset, Item, open_dataset
from peephole.batch.runner import Result, Run, open_run, run
from peephole.store.runs import SettingsMismatch, Store

__all__ = ["Dataset", "Item", "Result", "Run", "SettingsMismatch", "Store", "open_dataset", "open_run", "run"]
