"""``secops host trust NAME``: fetch a host's SSH key, show it, and pin it after the operator checks it.

Collection never trusts on first use; this command is the one deliberate way a key becomes trusted. The
fingerprint is pinned into the Host row (``host_key``) and the change is audited.
"""

from __future__ import annotations

import time

import click
from sqlmodel import select

from secops.audit import record, snapshot
from secops.cli.app import App, pass_app
from secops.collect import hostkeys, ssh
from secops.collect.errors import HostError
from secops.collect.target import Target
from secops.errors import InvalidStateError, NotFoundError
from secops.i18n import _
from secops.models import Host


@click.command("trust")
@click.argument("name")
@click.option("--fingerprint", "expected", metavar="SHA256:…",
              help="The fingerprint you verified out of band; the key is pinned only if it matches.")
@click.option("--yes", is_flag=True, help="Pin without asking (the key and fingerprint are still shown).")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the host.")
@pass_app
def trust(app: App, name: str, expected: str | None, yes: bool, timeout: float) -> None:
    """Pin the SSH host key of host NAME (shows key type and SHA256 fingerprint first)."""
    want = hostkeys.normalize_fingerprint(expected) if expected else None
    with app.session() as session:
        host = session.exec(select(Host).where(Host.name == name)).first()
        if host is None:
            raise NotFoundError(_("host {name} not found").format(name=name))
        if host.transport == "local":
            raise InvalidStateError(
                _("host {name} uses the local transport; it has no SSH host key").format(name=name))
        target = Target.from_host(host, app.settings.home)
        try:
            key = ssh.server_key(target, time.monotonic() + timeout)
        except HostError as exc:
            click.echo(f"error: {exc.reason}", err=True)
            raise click.exceptions.Exit(3) from None
        fp = hostkeys.fingerprint(key)
        click.echo(_("Host {name} ({address} port {port}) offers a {type} key:").format(
            name=name, address=target.address, port=target.port, type=key.get_name()))
        click.echo(f"  {fp}")
        if host.host_key and hostkeys.normalize_fingerprint(host.host_key) == fp:
            click.echo(_("This key is already pinned; nothing changed."))
            return
        if want is not None and want != fp:
            raise InvalidStateError(_("the server's key {actual} does not match the expected {expected}; "
                                      "nothing was pinned").format(actual=fp, expected=want))
        if host.host_key:
            click.echo(_("WARNING: the pinned key was {old}. A changed host key can mean a man-in-the-middle "
                         "attack; pin the new one only after checking it with the host's administrator.")
                       .format(old=host.host_key), err=True)
            if want is None and yes:
                raise InvalidStateError(_("the host key changed; re-pin it with --fingerprint after checking "
                                          "the new key out of band"))
        conflict = [k for k in hostkeys.known_keys(target)
                    if k.marker is None and k.key_type == key.get_name() and k.blob != key.asbytes()]
        if conflict:
            click.echo(_("WARNING: {source} records a different key for this host; collection will keep "
                         "refusing it until that line is removed.").format(source=conflict[0].source),
                       err=True)
        question = _("Pin this key for host {name}?").format(name=name)
        confirmed = want is not None or yes or click.confirm(question)
        if not confirmed:
            click.echo(_("Nothing pinned."))
            raise click.exceptions.Exit(1)
        before = snapshot(host)
        host.host_key = fp
        session.add(host)
        session.flush()
        record(session, app.actor, "host.trust", "host", name, before=before, after=snapshot(host),
               details={"key_type": key.get_name(), "fingerprint": fp, "address": target.address,
                        "port": target.port, "verified_by": "fingerprint" if want else "operator"})
        click.echo(_("Pinned {fingerprint} for host {name}.").format(fingerprint=fp, name=name))


def _attach() -> list[click.Command]:
    """Hang ``trust`` under the ``host`` group of ``secops.cli.system`` (or our own group until it exists)."""
    from secops.cli import system

    group = getattr(system, "host", None)
    if isinstance(group, click.Group):
        group.add_command(trust)
        return []
    return [click.Group("host", commands=[trust], help="Hosts of the inventory.")]


COMMANDS: list[click.Command] = _attach()
