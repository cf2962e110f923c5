"""The scan progress bar on stderr (files, MB, rate, ETA), drawn with rich.

An adapter for the CLI: the scan domain only knows the `ScanProgress` protocol.
"""

import typing as t

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

if t.TYPE_CHECKING:
    from vigil.pipeline.records import FileOutcome


class RichScanProgress:
    """Bar advanced by bytes (for a meaningful ETA) with the file count beside it."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]scan[/]"),
            BarColumn(),
            TextColumn("{task.fields[files_done]}/{task.fields[files]} files"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[errors]} errors"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.errors = 0

    def start(self, *, files: int, bytes_total: int, files_done: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task(
            "scan",
            total=max(bytes_total, 1),
            files=files,
            files_done=files_done,
            errors=0,
        )

    def advance(self, outcome: "FileOutcome", size: int) -> None:
        if self.task is None:
            return
        self.errors += len(outcome.errors)
        done = t.cast(int, self.progress.tasks[0].fields["files_done"]) + 1
        self.progress.update(
            self.task,
            advance=size,
            files_done=done,
            errors=self.errors,
        )

    def close(self) -> None:
        self.progress.stop()
