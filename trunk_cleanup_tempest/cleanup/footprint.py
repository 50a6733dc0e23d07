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

"""What a server on a trunk owns, recorded while the server still exists.

Once Nova has deleted a server nothing in Neutron names it any more (the
parent port is unbound), so the footprint is the only link between a
deleted server and the trunk it leaves behind. :func:`record` is the one
entry for callers: a server (once gone, through its ports), a trunk or a
parent port.
"""

import collections
import dataclasses
import json

from oslo_log import log as logging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import listing

LOG = logging.getLogger(__name__)

# Who created the parent port: Nova deletes the ports it created and only
# unbinds the ones it was given, so the two leave different leftovers.
CREATED_BY_USER = 'user'
CREATED_BY_COMPUTE = 'compute'
CREATED_BY_UNKNOWN = 'unknown'
CREATED_BY = (CREATED_BY_USER, CREATED_BY_COMPUTE, CREATED_BY_UNKNOWN)


@dataclasses.dataclass(frozen=True)
class Subport:
    port_id: str
    segmentation_type: str
    segmentation_id: int | None = None


@dataclasses.dataclass(frozen=True)
class TrunkRecord:
    trunk_id: str
    parent_port_id: str
    project_id: str
    subports: tuple = ()
    parent_created_by: str = CREATED_BY_UNKNOWN

    @property
    def port_ids(self):
        """The parent first, then every subport."""
        return [self.parent_port_id] + [s.port_id for s in self.subports]


@dataclasses.dataclass(frozen=True)
class Footprint:
    """The trunks (with parents and subports) one server stood on.

    ``own_server``: the server is known to be of ``project_id`` (Nova
    showed it to the credentials that recorded it, or they made it), not
    only named by a port, whose ``device_id`` anyone may write.
    """

    project_id: str
    trunks: tuple = ()
    server_id: str | None = None
    own_server: bool = False

    @property
    def port_ids(self):
        return [p for t in self.trunks for p in t.port_ids]

    @property
    def trunk_ids(self):
        return [t.trunk_id for t in self.trunks]

    def to_dict(self):
        data = dataclasses.asdict(self)
        if not self.own_server:
            # As written before the field was: journal entries are named
            # after this text.
            del data['own_server']
        return data

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        """Rebuild a footprint saved with :meth:`to_dict`.

        :raises InvalidFootprint: when a required field is missing or of the
            wrong type, so a hand-edited file is refused before any write.
        """
        try:
            trunks = tuple(
                TrunkRecord(
                    trunk_id=_text(t['trunk_id']),
                    parent_port_id=_text(t['parent_port_id']),
                    project_id=_text(t['project_id']),
                    parent_created_by=_created_by(
                        t.get('parent_created_by', CREATED_BY_UNKNOWN)),
                    subports=tuple(
                        Subport(port_id=_text(s['port_id']),
                                segmentation_type=_text(
                                    s['segmentation_type']),
                                segmentation_id=s.get('segmentation_id'))
                        for s in t.get('subports') or ()))
                for t in data.get('trunks') or ())
            own = data.get('own_server', False)
            if not isinstance(own, bool):
                raise ValueError('own_server must be true or false')
            return cls(project_id=_text(data['project_id']), trunks=trunks,
                       server_id=data.get('server_id'), own_server=own)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise errors.InvalidFootprint(
                'not a footprint: %s %s' % (type(exc).__name__, exc))

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise errors.InvalidFootprint('not JSON: %s' % exc)
        return cls.from_dict(data)


def _text(value):
    if not isinstance(value, str) or not value:
        raise ValueError('expected a non-empty string, got %r' % (value,))
    return value


def _created_by(value):
    if value not in CREATED_BY:
        raise errors.InvalidOptions(
            'parent_created_by must be one of %s, got %r'
            % (', '.join(CREATED_BY), value))
    return value


def trunk_record(trunk, parent_created_by=CREATED_BY_UNKNOWN):
    return TrunkRecord(
        trunk_id=trunk['id'],
        parent_port_id=trunk['port_id'],
        project_id=trunk.get('project_id') or trunk.get('tenant_id'),
        parent_created_by=parent_created_by,
        subports=tuple(
            Subport(port_id=s['port_id'],
                    segmentation_type=s['segmentation_type'],
                    segmentation_id=s.get('segmentation_id'))
            for s in trunk.get('sub_ports', ())))


def _made_before(resource, created_before, kind='trunk'):
    """Whether a trunk or port predates a moment (``created_before``).

    One made after it is not the deleted server's, and one whose age is
    unknown cannot be proven to be.
    """
    made = evidence.stamp(resource.get('created_at'))
    # Neutron keeps whole seconds: only an earlier second is surely before.
    if made is not None and made < created_before.replace(microsecond=0):
        return True
    LOG.info('%s %s left alone: made at %s, not before %s', kind,
             resource.get('id'), resource.get('created_at') or
             'an unknown time', created_before.isoformat())
    return False


def _trunks_on(clients, port_ids, created_before, subports_before=None):
    """The trunks whose parents are ``port_ids``, made before a moment.

    With ``created_before``, newer trunks are left out, and so are the
    ports among their subports newer than ``subports_before`` (default:
    ``created_before``).
    """
    trunks = list(listing.paginated(clients.trunks_client.list_trunks,
                                    'trunks', port_id=list(port_ids)))
    if created_before is None:
        return trunks
    trunks = [t for t in trunks if _made_before(t, created_before)]
    if not trunks:
        return trunks
    sub_ids = [s['port_id'] for t in trunks for s in t.get('sub_ports', ())]
    ports = listing.by_id(clients.ports_client.list_ports, 'ports', sub_ids)

    def older(sub):
        port = ports.get(sub['port_id'], {'id': sub['port_id']})
        return _made_before(port, subports_before or created_before,
                            'subport port')
    return [dict(t, sub_ports=[s for s in t.get('sub_ports', ())
                               if older(s)]) for t in trunks]


def record_server(clients, server_id, parent_created_by=None,
                  created_before=None, subports_before=None):
    """Record the trunks a live server stands on, before it is deleted.

    :param clients: an object with ``servers_client``, ``ports_client`` and
        ``trunks_client`` (a tempest ``Manager`` is one).
    :param server_id: the server.
    :param parent_created_by: ``'user'`` or ``'compute'`` when the caller
        knows who created the parent ports. Neutron does not say, so without
        it a parent made before the server counts as the user's and any other
        as ``'unknown'``.
    :param created_before: a timezone-aware datetime, e.g. when Nova said
        the server was being deleted: trunks and subport ports made after
        it are not the server's and are left out.
    :param subports_before: for subport ports, a later moment than
        ``created_before`` (default: the same): a subport added to the
        server's own trunk may be the server's where a trunk is not.
    :returns: a :class:`Footprint`; its ``trunks`` is empty when the server
        is on no trunk.
    :raises NotFound: the server does not exist (any more); ``Unproven``
        when Nova's 404 is not its ``itemNotFound`` for that server.
    """
    if parent_created_by is not None:
        _created_by(parent_created_by)
    try:
        server = clients.servers_client.show_server(server_id)['server']
    except lib_exc.NotFound as exc:
        if evidence.server_gone(exc, server_id) is None:
            # A proxy's page, a wrong endpoint: not Nova's word.
            raise errors.Unproven('server %s cannot be proven gone: %s'
                                  % (server_id, evidence.undecided(exc)))
        raise errors.NotFound(
            'server %s not found: record its footprint before deleting it, '
            'or name its trunk or parent port instead' % server_id)
    ports = [p for p in listing.paginated(clients.ports_client.list_ports,
                                          'ports', device_id=server_id)
             if _nova_bound(p, server)]
    trunks = []
    if ports:
        by_id = {p['id']: p for p in ports}
        found = _trunks_on(clients, sorted(by_id), created_before,
                           subports_before)
        for trunk in found:
            created_by = parent_created_by
            if created_by is None:
                created_by = _guess_created_by(by_id[trunk['port_id']],
                                               server)
            trunks.append(trunk_record(trunk, created_by))
    return Footprint(project_id=server['tenant_id'],
                     server_id=server_id, own_server=True,
                     trunks=tuple(sorted(trunks, key=lambda t: t.trunk_id)))


def _nova_bound(port, server):
    """Whether Nova bound ``port`` to ``server``, as far as Neutron says.

    ``device_id`` is free text an admin may set on any port, in any
    project; Nova binds only ports of the server's own project, with a
    ``compute:`` owner.
    """
    project = port.get('project_id') or port.get('tenant_id')
    if (project == server.get('tenant_id') and
            (port.get('device_owner') or '').startswith('compute:')):
        return True
    LOG.info('port %s left alone: its device_id names server %s, but it is '
             'of project %s, owner %r', port.get('id'), server.get('id'),
             project, port.get('device_owner'))
    return False


def _guess_created_by(port, server):
    # Both timestamps are ISO 8601 UTC ("2026-11-24T21:11:09Z"), so they
    # compare as text. Nova only creates ports after the server record.
    created = port.get('created_at')
    if created and server.get('created') and created < server['created']:
        return CREATED_BY_USER
    return CREATED_BY_UNKNOWN


def record_ports(clients, port_ids, server_id=None, project_id=None,
                 created_before=None):
    """The trunks whose parent ports are among ``port_ids``.

    What is left to link a deleted server to its trunks: the ports it
    named (in a notification, or still in their ``device_id``).

    :param created_before: as for :func:`record_server`.
    :returns: a :class:`Footprint`, or None when no such trunk exists.
    """
    if not port_ids:
        return None
    trunks = _trunks_on(clients, port_ids, created_before)
    if not trunks:
        return None
    records = tuple(trunk_record(t) for t in trunks)
    return Footprint(project_id=project_id or records[0].project_id,
                     trunks=records, server_id=server_id)


# What bounds a gone server's leftovers: the one project whose ports link
# it, the moment after which nothing is its own, and why (for messages).
GoneScope = collections.namedtuple('GoneScope', 'project_id before why')


def _gone_server_scope(clients, server_id, project_id, created_before):
    """The project and moment that bound what a gone server left.

    Both are Nova's word, from its record of the delete
    (:func:`~.evidence.deleted_record`): the project it was of, and its
    ``terminated_at`` (a trunk made after it is not the server's). Without
    that record nothing is assumed, not even the caller's own project.

    :param project_id: the project the caller says the server was of:
        only checked against Nova's word.
    :raises Unproven: Nova does not show the record, or it names another
        project than ``project_id``.
    """
    try:
        gone = evidence.deleted_record(clients.servers_client, server_id)
    except errors.Unproven as exc:
        raise errors.Unproven(
            'server %s not found, and its project is not proven: %s; '
            'nothing is read by its ID (an admin may clean its trunk, '
            '--trunk, if it is a leftover)' % (server_id, exc))
    project = gone['tenant_id']
    if project_id is not None and project_id != project:
        raise errors.Unproven(
            'server %s not found, and it was not of project %s: Nova\'s '
            'servers list shows it deleted in project %s (check --project)'
            % (server_id, project_id, project))
    ended = evidence.stamp_utc(gone['OS-SRV-USG:terminated_at'])
    if created_before is None or ended < created_before:
        created_before = ended
    return GoneScope(project, created_before,
                     "project %s (Nova's servers list shows it deleted "
                     "there at %s)" % (project,
                                       gone['OS-SRV-USG:terminated_at']))


def _ports_naming(clients, server_id, project_id):
    """The ports of ``project_id`` that still name a gone server.

    Every page of them; and, as for a live server (:func:`_nova_bound`),
    only ports Nova could have bound: of the server's project, with a
    ``compute:`` owner. ``device_id`` is free text a port's owner may set;
    the others are logged and left.
    """
    kept = []
    for port in listing.paginated(clients.ports_client.list_ports, 'ports',
                                  device_id=server_id):
        project = port.get('project_id') or port.get('tenant_id')
        if (project == project_id and
                (port.get('device_owner') or '').startswith('compute:')):
            kept.append(port['id'])
        else:
            LOG.info('port %s left alone: its device_id names server %s, '
                     'which is gone, but it is of project %s, owner %r '
                     '(the server was of project %s)', port.get('id'),
                     server_id, project, port.get('device_owner'),
                     project_id)
    return kept


def record_trunk(clients, trunk_id, parent_created_by=CREATED_BY_UNKNOWN):
    """Record a trunk that an operator names (its server may be gone).

    :returns: a :class:`Footprint` of that one trunk; ``server_id`` is the
        device the parent port is bound to, if any.
    :raises NotFound: no such trunk.
    """
    _created_by(parent_created_by)
    try:
        trunk = clients.trunks_client.show_trunk(trunk_id)['trunk']
    except lib_exc.NotFound:
        raise errors.NotFound('trunk %s not found' % trunk_id)
    return _footprint_of(clients, trunk, parent_created_by)


def record_parent_port(clients, port_id,
                       parent_created_by=CREATED_BY_UNKNOWN):
    """Record the trunk whose parent is ``port_id``.

    :raises NotFound: the port is the parent of no trunk (it may be a
        subport, or not exist).
    """
    _created_by(parent_created_by)
    trunks = clients.trunks_client.list_trunks(port_id=port_id)['trunks']
    if not trunks:
        raise errors.NotFound('port %s is the parent port of no trunk'
                              % port_id)
    return _footprint_of(clients, trunks[0], parent_created_by)


def _footprint_of(clients, trunk, parent_created_by):
    record = trunk_record(trunk, parent_created_by)
    server_id = None
    try:
        parent = clients.ports_client.show_port(record.parent_port_id)['port']
    except lib_exc.NotFound:
        parent = {}
    if parent.get('device_owner', '').startswith('compute:'):
        server_id = parent.get('device_id') or None
    return Footprint(project_id=record.project_id, trunks=(record,),
                     server_id=server_id)


def record(clients, server_id=None, trunk_id=None, port_id=None,
           parent_created_by=None, created_before=None,
           subports_before=None, server_ports=None, project_id=None,
           live_only=False):
    """The footprint of one server, trunk or parent port: name exactly one.

    Callers come here, so what links a gone server to its trunks is
    decided in one place. Once Nova no longer shows a server, only ports
    do: by default the ones whose ``device_id`` still names it, as Nova
    binds ports (a lost unbind leaves them; the operator's command); with
    ``server_ports`` (the ports Nova named in the notification of the
    delete: ``watch``) those instead, and also while the server still
    shows but stands on no trunk (Nova unbinds its ports before the server
    is gone).

    :param parent_created_by: as for :func:`record_server`; for a trunk or
        a parent port, None is ``'unknown'``.
    :param created_before: as for :func:`record_server`; it bounds the
        trunks found by ports too.
    :param subports_before: as for :func:`record_server`.
    :param server_ports: the server's port IDs (a list, even empty), as
        Nova named them.
    :param project_id: a gone server's project. With ``server_ports``,
        the footprint's (default: the first trunk's); without, the project
        the caller says it was of, which Nova's word must match.
    :param live_only: no fallback: the server must exist (``record`` of a
        live server, to keep before its delete).
    :returns: a :class:`Footprint`; for a live server on no trunk, one
        whose ``trunks`` is empty.
    :raises NotFound: no such server, trunk or parent port, or no port
        links a gone server to a trunk.
    """
    if [server_id, trunk_id, port_id].count(None) != 2:
        raise errors.InvalidOptions('name one of a server, a trunk or a '
                                    'parent port')
    if trunk_id is not None:
        return record_trunk(clients, trunk_id,
                            parent_created_by or CREATED_BY_UNKNOWN)
    if port_id is not None:
        return record_parent_port(clients, port_id,
                                  parent_created_by or CREATED_BY_UNKNOWN)
    try:
        live = record_server(clients, server_id, parent_created_by,
                             created_before, subports_before)
    except errors.NotFound as exc:
        # Not Nova's word that it is gone: nothing is read by its ID. The
        # ports Nova named are read either way.
        if live_only or (isinstance(exc, errors.Unproven) and
                         server_ports is None):
            raise
        live = None
    if live is not None and (live.trunks or server_ports is None):
        return live
    linking = 'none of the ports Nova named for it parents a trunk'
    proven = server_ports is None
    if proven:
        scope = _gone_server_scope(clients, server_id, project_id,
                                   created_before)
        project_id, created_before = scope.project_id, scope.before
        server_ports = _ports_naming(clients, server_id, project_id)
        linking = ('no port of %s with a compute: owner that names it '
                   'parents a trunk made before then' % scope.why)
    found = record_ports(clients, server_ports, server_id, project_id,
                         created_before)
    if found is not None:
        # Nova's record of the delete proved the server the project's.
        return (dataclasses.replace(found, own_server=True)
                if proven and found.project_id == project_id else found)
    if live is not None:
        return live
    raise errors.NotFound(
        'server %s not found, and %s: if it was deleted, its trunk is no '
        'longer linked to it (see "trunk-cleanup orphans")'
        % (server_id, linking))
