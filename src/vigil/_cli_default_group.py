"""A click group with a default subcommand: `vigil scan PATHS` runs `vigil scan run
PATHS`, while `vigil scan show 3` and `vigil scan list` reach their own commands."""

import click


class DefaultGroup(click.Group):
    """Arguments that do not start with a known subcommand go to `default`;
    `--help` shows the default command's help (which names the others)."""

    def __init__(self, *args: object, default: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)
