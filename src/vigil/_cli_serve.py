"""`vigil serve` (the console under uvicorn) and `vigil user` (console accounts)."""

import ipaddress
import secrets
import sys

import click

from vigil._cli_context import Context, json_line, pass_context, shown

ROLES = ("analyst", "supervisor", "admin")
DEV_USERS = (
    ("dev-analyst", "analyst"),
    ("dev-supervisor", "supervisor"),
    ("dev-admin", "admin"),
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--dev",
    is_flag=True,
    envvar="VIGIL_DEV_MODE",
    help="Dev mode: plain-HTTP cookies and, with no users yet, three dev accounts "
    "whose passwords are printed once. Refuses any host but loopback.",
)
@pass_context
def serve(context: Context, host: str, port: int, dev: bool) -> None:
    """Run the review console at http://HOST:PORT.

    Outside dev mode the session cookie is Secure: serve it behind TLS (a reverse
    proxy), and create users first with `vigil user add`.
    """
    if dev and not _is_loopback(host):
        raise click.UsageError(f"dev mode serves loopback only, not {host}")
    import uvicorn

    from vigil.server.app import create_app

    settings = context.settings.model_copy(update={"dev_mode": dev})
    store = context.store()
    if dev and store.users.count() == 0:
        from vigil.server.auth import hash_password
        from vigil.store.users import Role

        click.echo("dev-only accounts (shown once; change or disable them):", err=True)
        for name, role in DEV_USERS:
            password = secrets.token_urlsafe(12)
            store.users.add(name, hash_password(password), Role(role))
            click.echo(f"  {name} ({role}): {password}", err=True)
    if store.users.count() == 0:
        click.echo(
            "no users yet: add one with `vigil user add NAME --role admin`", err=True
        )
    click.echo(f"console at http://{host}:{port}", err=True)
    uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning")


@click.group()
def user() -> None:
    """Console accounts: analyst, supervisor (settles second opinions), admin."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="analyst", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_context
def user_add(context: Context, username: str, role: str, password_stdin: bool) -> None:
    """Add a user; the password (12 characters or more) is stored as an argon2id
    hash."""
    from vigil.server.auth import hash_password
    from vigil.store.users import Role, UserError

    try:
        hashed = hash_password(_password(password_stdin))
        with context.store() as store:
            made = store.users.add(username, hashed, Role(role))
            store.audit.append("cli", "user", made.username, {"added": role})
    except (ValueError, UserError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(shown(f"user {made.username} ({made.role.value}) added"))


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_context
def user_passwd(context: Context, username: str, password_stdin: bool) -> None:
    """Set a new password; every session of the user ends."""
    from vigil.server.auth import hash_password
    from vigil.store.users import UserError

    try:
        hashed = hash_password(_password(password_stdin))
        with context.store() as store:
            store.users.update(username, password_hash=hashed)
            store.audit.append("cli", "user", username, {"password": "changed"})
    except (ValueError, UserError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(shown(f"password of {username} changed; its sessions ended"))


@user.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable again instead.")
@pass_context
def user_disable(context: Context, username: str, enable: bool) -> None:
    """Disable a user (every session ends at once), or enable them again."""
    from vigil.store.users import UserError

    try:
        with context.store() as store:
            store.users.update(username, disabled=not enable)
            store.audit.append("cli", "user", username, {"disabled": not enable})
    except UserError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(shown(f"user {username} {'enabled' if enable else 'disabled'}"))


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines.")
@pass_context
def user_list(context: Context, as_json: bool) -> None:
    """`<name> <role> <enabled|disabled>`; never a password hash."""
    with context.store() as store:
        users = store.users.list()
    for found in users:
        if as_json:
            json_line(found.as_dict())
        else:
            state = "disabled" if found.disabled else "enabled"
            click.echo(shown(f"{found.username} {found.role.value} {state}"))
