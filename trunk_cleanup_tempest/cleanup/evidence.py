# Copyright 2026 trunk_cleanup_tempest developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""What the cloud proves about a trunk's server, and nothing more.

A trunk is cleaned by default only when the cloud proves that the server
that used it is deleted: Nova answers ``404 itemNotFound`` naming that
server ID, and, where the caller may list every project's servers, Nova's
list does not show that server alive. Anything else Nova may say (a
proxy's error page, a 404 from a wrong endpoint, 403, 5xx, no answer)
proves nothing, and the server is then treated as alive. A trunk whose
parent port is unbound proves no server at all: it may be new, pre-created
by Heat or a port pool, or wait for a server still scheduling. Such a
trunk is only cleaned on an explicit request with an age floor, and its
report says that nothing was proven.
"""

import collections
import datetime

from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import listing

# The classes of a candidate trunk.
SERVER_DELETED = 'server-deleted'
PARENT_UNBOUND = 'parent-unbound'
IN_USE = 'in-use'
UNDECIDABLE = 'undecidable'
CLASSES = (SERVER_DELETED, PARENT_UNBOUND, IN_USE, UNDECIDABLE)
# Cleaned without being asked for more.
PROVEN = (SERVER_DELETED,)


def server_gone(exc, server_id):
    """Nova's own proof that ``server_id`` does not exist, or None.

    Nova answers a show of a server that is not there (deleted, archived,
    or of a project the caller cannot see) with ``{"itemNotFound": {"code":
    404, "message": "Instance <id> could not be found."}}``; tempest.lib
    unwraps the outer key. Only that body, naming that ID, counts.
    """
    if not isinstance(exc, lib_exc.NotFound):
        return None
    body = getattr(exc, 'resp_body', None)
    if not isinstance(body, dict):
        return None
    message = body.get('message')
    if body.get('code') != 404 or not isinstance(message, str):
        return None
    if server_id not in message:
        return None
    return 'Nova: %s (404 itemNotFound)' % message


# Asked for changes since a time, Nova's servers list includes deleted
# servers (status DELETED) until their rows are archived.
_SINCE_EVER = '1970-01-01T00:00:00Z'


# What Nova's list says of a server it deleted, and when (or None).
Deletion = collections.namedtuple('Deletion', 'what when')


def deleted_since(servers_client, since):
    """Nova's word on each server it deleted since ``since``.

    Its servers list, read by an admin and asked for changes since a time
    and status ``DELETED``, shows the servers Nova destroyed (their rows
    deleted, not yet archived). Every page is read; a server missing from
    the answer proves nothing yet.

    :param since: a timezone-aware datetime, compared with each server's
        last update before its destruction, by Nova's clock.
    :returns: {server ID: :class:`Deletion`}.
    :raises: what the list call raises (the cloud down, refused).
    """
    found = {}
    for server in listing.paginated(
            servers_client.list_servers, 'servers', detail=True,
            all_tenants=True, status='DELETED', **{
                'changes-since': since.astimezone(
                    datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}):
        what = _deleted_text(server)
        # The filter may be dropped (a policy): only what says DELETED.
        if what and server.get('id'):
            found[server['id']] = Deletion(what, stamp_utc(
                server.get('OS-SRV-USG:terminated_at') or
                server.get('updated')))
    return found


def _deleted_text(server):
    if server.get('status') != 'DELETED':
        return None
    when = server.get('OS-SRV-USG:terminated_at') or server.get('updated')
    return "Nova's servers list shows it DELETED%s" % (
        ' at %s' % when if when else '')


# What a list call may raise when the cloud does not answer it whole.
LIST_ERRORS = ((lib_exc.RestClientException, listing.PaginationError) +
               errors.CONNECTION_ERRORS)

# Nova's policy answer to a caller that may list only its own project's
# servers; any other 403 (a proxy, a firewall) says nothing of the caller.
_OWN_PROJECT_ONLY = 'os_compute_api:servers:detail:get_all_tenants'


def _own_project_only(exc):
    body = getattr(exc, 'resp_body', None)
    return (isinstance(exc, lib_exc.Forbidden) and isinstance(body, dict) and
            _OWN_PROJECT_ONLY in str(body.get('message')))


def listed(servers_client, server_id):
    """What Nova's servers list says of a server its show called gone.

    The show finds a server through its instance mapping: a live server
    whose mapping is lost (the API database restored from an older backup,
    a failed move) answers the same ``itemNotFound`` as a deleted one; and
    to a caller Nova's policy lets see only its own project, it answers so
    for every server of another project, alive or not. The list reads the
    mapped cells' own records, deleted ones included (see
    :func:`_list_one`): it shows the server deleted, when, and in which
    project, or alive, or not at all (its rows archived, or in a cell the
    list did not read: unmapped, down; or, to such a caller, of another
    project). So only "deleted", and "not shown at all", let the show's
    proof stand: for an admin (whose list takes the ID filter) it then
    rests on the show alone; for others, only for a server known to be
    theirs.

    A server Nova's list does not show to a caller it confines to its own
    project is gone, or another project's, alive or not (or never reached
    a cell: deleted before it was scheduled): the show's proof stands for
    what only the server held, but no port that names it is its (see
    :meth:`~.leftovers.Leftovers.holder`).

    :returns: (unproven, what, project, unlisted): ``unproven`` is True
        when the list does not let the show's proof stand; ``what`` says
        what it showed, or None; ``project`` is the one it shows the server
        deleted in, or None; ``unlisted`` is True for that last case.
    """
    try:
        found, own_only = _list_one(servers_client, server_id)
    except LIST_ERRORS as exc:
        return True, _not_read(exc), None, False
    if any(s.get('id') != server_id for s in found):
        # The ID filter was dropped (a policy that lets all projects be
        # listed but not filtered): the caller may not be an admin, whose
        # show sees every project.
        return True, _IGNORED_FILTER, None, False
    if not found:
        if own_only:
            return False, _NOT_IN_OWN, None, True
        return False, ("Nova's servers list does not show it either (its "
                       "rows archived, or in a cell the list did not "
                       "read)"), None, False
    server = found[0]
    if _deleted_text(server):
        return False, _deleted_text(server), server.get('tenant_id'), False
    return True, ("Nova's servers list shows it %s (its instance mapping "
                  "is lost?)" % server.get('status')), None, False


_IGNORED_FILTER = ("Nova's servers list ignored the ID filter (a policy that "
                   "lets these credentials list every project, not filter)")
_NOT_IN_OWN = ("Nova's servers list, which it lets these credentials read "
               "for their own project only, does not show it (a server of "
               "another project, alive or not; its rows archived; deleted "
               "before it reached a cell; or no such server)")


def _list_one(servers_client, server_id):
    """Nova's list's record of one server: ([record] or [], own_only).

    An admin's, by ID, two at most: one if the ID filter holds, and a page
    of others (cheaply) if a policy dropped it. A caller Nova's policy
    lets list only its own project (``own_only``) may not filter by ID:
    that project's list is read, page after page, to the server. Asked
    for changes since a time, both include deleted servers.

    :raises: what the list call raises, but Nova's policy 403.
    """
    since = {'changes-since': _SINCE_EVER}
    try:
        return servers_client.list_servers(
            detail=True, all_tenants=True, uuid=server_id, limit=2,
            **since)['servers'], False
    except lib_exc.Forbidden as exc:
        if not _own_project_only(exc):
            raise
    for server in listing.paginated(servers_client.list_servers, 'servers',
                                    detail=True, **since):
        if server.get('id') == server_id:
            return [server], True
    return [], True


def deleted_record(servers_client, server_id):
    """Nova's record of a server it deleted: the only proof of its project.

    Its project and ``terminated_at``, from Nova's list (see
    :func:`_list_one`) while Nova keeps the rows.

    :raises Unproven: the list answered anything else: an error, or not
        that server deleted (alive, its instance mapping lost; not at all,
        its rows archived, its cell not read, or, to a caller that may list
        only its own project, of another project; other servers only, the
        ID filter dropped), or deleted with no project or end time.
    """
    try:
        found, own_only = _list_one(servers_client, server_id)
    except LIST_ERRORS as exc:
        raise errors.Unproven(_not_read(exc))
    if any(s.get('id') != server_id for s in found):
        raise errors.Unproven(_IGNORED_FILTER)
    if not found:
        raise errors.Unproven(_NOT_IN_OWN if own_only else (
            "Nova's servers list does not show it (its rows archived, or in "
            "a cell the list did not read, or no such server)"))
    server = found[0]
    if not _deleted_text(server):
        raise errors.Unproven(
            "Nova's servers list shows it %s (its instance mapping lost?)"
            % server.get('status'))
    if not server.get('tenant_id'):
        raise errors.Unproven(
            "Nova's servers list shows it DELETED, but not its project")
    if stamp_utc(server.get('OS-SRV-USG:terminated_at')) is None:
        raise errors.Unproven(
            "Nova's servers list shows it DELETED, but not when it ended "
            "(no terminated_at)")
    return server


def _not_read(exc):
    return "Nova's servers list not read (%s)" % (
        ' '.join(str(errors.error_text(exc)).split())[:200])


def undecided(exc):
    """Why a Nova answer proves nothing about a server."""
    status = getattr(getattr(exc, 'resp', None), 'status', None)
    body = getattr(exc, 'resp_body', None)
    if isinstance(body, dict) and 'message' in body:
        body = body['message']
    text = ' '.join(str(body if body is not None else exc).split())[:200]
    if status:
        return 'Nova answered HTTP %s (%s), not itemNotFound' % (status,
                                                                 text)
    return 'Nova did not answer (%s: %s)' % (type(exc).__name__, text)


def own_project(client):
    """The project of the client's token, or None when it has none.

    Known once a call has authenticated; a system- or domain-scoped token
    has no project.
    """
    provider = getattr(client, 'auth_provider', None)
    credentials = getattr(provider, 'credentials', None)
    return getattr(credentials, 'project_id', None) or None


def scope(client, all_projects=False, project_id=None):
    """The project whose resources a run may touch; None for all.

    :raises InvalidOptions: the token has no project (system or domain
        scope) and neither ``all_projects`` nor ``project_id`` was given:
        its own project cannot be told, so nothing is assumed.
    """
    if all_projects:
        return None
    if project_id:
        return project_id
    own = own_project(client)
    if own is None:
        raise errors.InvalidOptions(
            'the credentials are not scoped to a project (system or '
            'domain scope): name --project ID or --all-projects')
    return own


def stamp(text):
    """A Neutron or Nova timestamp (ISO 8601, UTC) as a datetime."""
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None


def stamp_utc(text):
    """:func:`stamp`, a time written without a zone read as UTC.

    Nova writes some times without one (``terminated_at``), and so does
    oslo.messaging (a notification's ``timestamp``); both are UTC.
    """
    when = stamp(text)
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def last_change(*resources):
    """The newest ``updated_at`` (else ``created_at``) of ``resources``.

    None when one of them carries no timestamp: its age is unknown.
    """
    newest = None
    for res in resources:
        when = stamp(res.get('updated_at') or res.get('created_at'))
        if when is None:
            return None
        newest = when if newest is None else max(newest, when)
    return newest


def idle_since(older_than, now, *resources):
    """None once no resource changed for ``older_than``, else why not."""
    changed = last_change(*resources)
    if changed is None:
        return 'its age is unknown (no updated_at)'
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now - changed < older_than:
        return 'it changed %s ago (at %s), less than the %s asked for' % (
            _round(now - changed), changed.isoformat(), older_than)
    return None


def _round(delta):
    return datetime.timedelta(seconds=int(delta.total_seconds()))
