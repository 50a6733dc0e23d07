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

"""Read what is left of a footprint, with as few calls as the API allows.

Ports and trunks are fetched with filtered list calls, 100 IDs a call, so
inspecting a footprint costs the same for 2 subports as for 100.
"""

import dataclasses

from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import listing

SERVER = 'server'
TRUNK = 'trunk'
PORT = 'port'

# Nova keeps a soft-deleted server restorable, its ports still bound: it is
# alive as far as its ports are concerned. Only DELETED is gone.
_SERVER_GONE_STATUSES = ('DELETED',)

# Nova's status of a server it cannot be asked about, never its own.
UNKNOWN = 'UNKNOWN'
# A server Nova calls not found, whose list (of the caller's own project
# only) does not show it: gone, or another project's. No port naming it
# is free.
NOT_LISTED = 'NOT_LISTED'

TRUNK_SUBPORT_OWNER = 'trunk:subport'
COMPUTE_OWNER_PREFIX = 'compute:'


@dataclasses.dataclass
class ResourceState:
    """One resource of a footprint as the cloud shows it now."""

    kind: str
    id: str
    present: bool
    status: str | None = None
    project_id: str | None = None
    device_id: str | None = None
    device_owner: str | None = None
    binding_host: str | None = None
    # For a port: the trunk it is the parent of (its ``trunk_details``);
    # for a trunk: its parent port.
    parent_of: str | None = None
    parent_port: str | None = None
    admin_state_up: bool | None = None
    sub_ports: list | None = None
    role: str | None = None
    revision_number: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # For a server: what Nova said that shows it is gone or alive.
    evidence: str | None = None

    @property
    def bound(self):
        """It names a device, or Neutron binds it to a host.

        ``binding:host_id`` shows to an admin only.
        """
        return bool(self.device_id or self.binding_host)

    def to_dict(self):
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None}


@dataclasses.dataclass
class Leftovers:
    """What :func:`inspect` found of a footprint."""

    footprint: object
    server: ResourceState | None
    trunks: dict
    ports: dict
    # Servers (other than the footprint's own) that one of the footprint's
    # ports names, as :func:`server_state` found them.
    devices: dict = dataclasses.field(default_factory=dict)

    @property
    def present(self):
        """Every trunk and port of the footprint that still exists."""
        return [r for r in list(self.trunks.values()) +
                list(self.ports.values()) if r.present]

    @property
    def clean(self):
        return not self.present

    @property
    def server_alive(self):
        return bool(self.server and self.server.present)

    def holder(self, port):
        """Why ``port`` may not be deleted now, or None when it is free.

        A port is free when nothing holds it, when only a trunk driver's
        bookkeeping does (``trunk:subport``), or when it still names a server
        that is gone (Nova has yet to unbind it). A live server, any other
        device (DHCP, router...) or a trunk that is not the footprint's
        holds it: Neutron checks a parent port's delete only against the
        trunks of the caller's project.
        """
        own = [t.trunk_id for t in self.footprint.trunks
               if t.parent_port_id == port.id]
        if port.present and port.parent_of and port.parent_of not in own:
            return ('the parent port of trunk %s, not of a trunk it is '
                    'recorded for (%s)' % (port.parent_of,
                                           ', '.join(own) or 'none'))
        if not port.present or not port.device_id:
            return None
        if port.device_owner == TRUNK_SUBPORT_OWNER:
            # Neutron refuses the delete of any trunk's subport, of any
            # project (PortInUseAsSubPort), and names the trunk.
            return None
        if port.device_owner.startswith(COMPUTE_OWNER_PREFIX):
            if self.server and port.device_id == self.server.id:
                server = self.server
            else:
                server = self.devices.get(port.device_id)
            if server is None or server.status == UNKNOWN:
                # Not proven gone: as good as alive.
                return ('bound to server %s, which cannot be proven gone%s'
                        % (port.device_id, ': %s' % server.evidence
                           if server is not None else ''))
            if server.present:
                return 'bound to live server %s' % port.device_id
            if server.status == NOT_LISTED:
                return ('bound to server %s, which cannot be proven gone: '
                        '%s' % (port.device_id, server.evidence))
            if server.project_id and server.project_id != port.project_id:
                # device_id is free text: Nova binds its project's ports.
                return ('claimed for server %s, which Nova lists deleted '
                        'in project %s, not the port\'s project %s: Nova '
                        'did not bind it' % (port.device_id,
                                             server.project_id,
                                             port.project_id))
            return None
        return 'in use by %s %s' % (port.device_owner or 'device',
                                    port.device_id)

    def to_dict(self):
        return {
            'server': self.server.to_dict() if self.server else None,
            'trunks': [t.to_dict() for t in self.trunks.values()],
            'ports': [p.to_dict() for p in self.ports.values()],
        }


def server_state(servers_client, server_id):
    """The server as Nova shows it.

    ``present`` is False only when Nova proves the server gone (see
    :func:`~.evidence.server_gone` and :func:`~.evidence.listed`). Any
    other answer, or none, leaves it present with status ``UNKNOWN``: what
    cannot be proven gone is treated as alive.
    """
    try:
        server = servers_client.show_server(server_id)['server']
    except lib_exc.NotFound as exc:
        proof = evidence.server_gone(exc, server_id)
        if proof:
            unproven, what, project, unlisted = evidence.listed(
                servers_client, server_id)
            if unproven:
                return ResourceState(
                    kind=SERVER, id=server_id, present=True, status=UNKNOWN,
                    evidence='%s, but %s' % (proof, what))
            if unlisted:
                # The one project whose list was read: the caller's own.
                project = evidence.own_project(servers_client)
            return ResourceState(
                kind=SERVER, id=server_id, present=False, project_id=project,
                status=NOT_LISTED if unlisted else None,
                evidence='; '.join(filter(None, (proof, what))))
        return ResourceState(kind=SERVER, id=server_id, present=True,
                             status=UNKNOWN, evidence=evidence.undecided(exc))
    except (lib_exc.RestClientException,) + errors.CONNECTION_ERRORS as exc:
        return ResourceState(kind=SERVER, id=server_id, present=True,
                             status=UNKNOWN, evidence=evidence.undecided(exc))
    status = server.get('status')
    gone = status in _SERVER_GONE_STATUSES
    return ResourceState(kind=SERVER, id=server_id, present=not gone,
                         status=status, project_id=server.get('tenant_id'),
                         evidence='Nova shows it %s' % status)


def port_state(port, role=None):
    return ResourceState(
        kind=PORT, id=port['id'], present=True, status=port.get('status'),
        project_id=port.get('project_id') or port.get('tenant_id'),
        device_id=port.get('device_id') or '',
        device_owner=port.get('device_owner') or '',
        # Shown to an admin only: None when not shown.
        binding_host=((port.get('binding:host_id') or '')
                      if 'binding:host_id' in port else None), role=role,
        parent_of=(port.get('trunk_details') or {}).get('trunk_id'),
        **_stamps(port))


def unbound_as_shown(port):
    """What the read shows of a port that names no device.

    Its host binding shows to an admin only: never call it unbound
    unless it was shown.
    """
    if port.binding_host:
        return 'is bound to host %s but names no server' % port.binding_host
    if port.binding_host is None:
        return ('names no server (its host binding is not shown to these '
                'credentials)')
    return 'is unbound'


def trunk_state(trunk):
    return ResourceState(
        kind=TRUNK, id=trunk['id'], present=True, status=trunk.get('status'),
        project_id=trunk.get('project_id') or trunk.get('tenant_id'),
        admin_state_up=trunk.get('admin_state_up', True),
        parent_port=trunk.get('port_id'),
        sub_ports=sorted(s['port_id'] for s in trunk.get('sub_ports', ())),
        **_stamps(trunk))


def _stamps(resource):
    return {k: resource.get(k) for k in ('revision_number', 'created_at',
                                         'updated_at')}


def inspect(clients, footprint):
    """Read the cloud's current state of everything in ``footprint``.

    :param clients: an object with ``servers_client``, ``ports_client`` and
        ``trunks_client``.
    :param footprint: a :class:`~trunk_cleanup_tempest.cleanup.footprint.
        Footprint`.
    :returns: :class:`Leftovers`.
    """
    return inspect_many(clients, [footprint])[0]


def inspect_many(clients, footprints):
    """Read many footprints with one set of list calls for them all.

    :returns: a :class:`Leftovers` per footprint, in order.
    """
    trunks = listing.by_id(clients.trunks_client.list_trunks, 'trunks',
                           [t for fp in footprints for t in fp.trunk_ids])
    ports = listing.by_id(clients.ports_client.list_ports, 'ports',
                          [p for fp in footprints for p in fp.port_ids])
    servers = {}

    def alive(server_id):
        if server_id not in servers:
            servers[server_id] = server_state(clients.servers_client,
                                              server_id)
        return servers[server_id]

    return [_leftovers(fp, trunks, ports, alive) for fp in footprints]


def _leftovers(footprint, found_trunks, found_ports, server):
    trunks = {tid: (trunk_state(found_trunks[tid]) if tid in found_trunks
                    else ResourceState(kind=TRUNK, id=tid, present=False))
              for tid in footprint.trunk_ids}
    roles = {}
    for t in footprint.trunks:
        roles[t.parent_port_id] = 'parent'
        roles.update((s.port_id, 'subport') for s in t.subports)
    ports = {pid: (port_state(found_ports[pid], role) if pid in found_ports
                   else ResourceState(kind=PORT, id=pid, present=False,
                                      role=role))
             for pid, role in roles.items()}
    devices = {}
    for port in ports.values():
        dev = port.device_id
        if (port.present and dev and dev != footprint.server_id and
                port.device_owner.startswith(COMPUTE_OWNER_PREFIX)):
            devices[dev] = server(dev)
    return Leftovers(
        footprint=footprint, trunks=trunks, ports=ports, devices=devices,
        server=server(footprint.server_id) if footprint.server_id else None)
