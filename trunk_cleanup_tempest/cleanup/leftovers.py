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

SERVER = 'server'
TRUNK = 'trunk'
PORT = 'port'

# Nova keeps a soft-deleted server restorable, its ports still bound: it is
# alive as far as its ports are concerned. Only DELETED is gone.
_SERVER_GONE_STATUSES = ('DELETED',)

TRUNK_SUBPORT_OWNER = 'trunk:subport'
# IDs per filtered list call: keeps URLs well under common limits.
IDS_PER_CALL = 100
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
    admin_state_up: bool | None = None
    sub_ports: list | None = None
    role: str | None = None

    @property
    def bound(self):
        """True while something (a server, a DHCP agent...) holds the port."""
        return bool(self.device_id)

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
    # Devices (other than the footprint's own server) that hold one of the
    # footprint's ports, mapped to True while they are live servers.
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
        that is gone (Nova has yet to unbind it). A live server or any other
        device (DHCP, router...) holds it.
        """
        if not port.present or not port.device_id:
            return None
        if port.device_owner == TRUNK_SUBPORT_OWNER:
            return None
        if port.device_owner.startswith(COMPUTE_OWNER_PREFIX):
            if self.server and port.device_id == self.server.id:
                alive = self.server.present
            else:
                alive = self.devices.get(port.device_id, True)
            return ('bound to live server %s' % port.device_id
                    if alive else None)
        return 'in use by %s %s' % (port.device_owner or 'device',
                                    port.device_id)

    def to_dict(self):
        return {
            'server': self.server.to_dict() if self.server else None,
            'trunks': [t.to_dict() for t in self.trunks.values()],
            'ports': [p.to_dict() for p in self.ports.values()],
        }


def server_state(servers_client, server_id):
    """The server as Nova shows it; ``present`` is False once it is gone."""
    try:
        server = servers_client.show_server(server_id)['server']
    except lib_exc.NotFound:
        return ResourceState(kind=SERVER, id=server_id, present=False)
    status = server.get('status')
    return ResourceState(kind=SERVER, id=server_id,
                         present=status not in _SERVER_GONE_STATUSES,
                         status=status, project_id=server.get('tenant_id'))


def port_state(port, role=None):
    return ResourceState(
        kind=PORT, id=port['id'], present=True, status=port.get('status'),
        project_id=port.get('project_id') or port.get('tenant_id'),
        device_id=port.get('device_id') or '',
        device_owner=port.get('device_owner') or '',
        binding_host=port.get('binding:host_id') or '', role=role)


def trunk_state(trunk):
    return ResourceState(
        kind=TRUNK, id=trunk['id'], present=True, status=trunk.get('status'),
        project_id=trunk.get('project_id') or trunk.get('tenant_id'),
        admin_state_up=trunk.get('admin_state_up', True),
        sub_ports=sorted(s['port_id'] for s in trunk.get('sub_ports', ())))


def by_id(list_call, key, ids):
    """``{id: item}`` of the items with those IDs, in few list calls."""
    found = {}
    ids = sorted(set(ids))
    for start in range(0, len(ids), IDS_PER_CALL):
        found.update((item['id'], item) for item in
                     list_call(id=ids[start:start + IDS_PER_CALL])[key])
    return found


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
    trunks = by_id(clients.trunks_client.list_trunks, 'trunks',
                   [t for fp in footprints for t in fp.trunk_ids])
    ports = by_id(clients.ports_client.list_ports, 'ports',
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
            devices[dev] = server(dev).present
    return Leftovers(
        footprint=footprint, trunks=trunks, ports=ports, devices=devices,
        server=server(footprint.server_id) if footprint.server_id else None)
