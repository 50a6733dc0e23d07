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

"""Find trunks that deleted servers left behind, at cloud scale.

A trunk is an orphan when its parent port is unbound, or bound to a server
that no longer exists. Everything is read with filtered, paginated list
calls: trunks, their parent ports (in chunks), and servers only when some
parent is still bound. A trunk whose parent is unbound may also be new and
waiting for its server: ``older_than`` (on the trunk's ``updated_at``)
keeps those out.
"""

import dataclasses
import datetime

from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from trunk_cleanup_tempest.cleanup import leftovers

PAGE_SIZE = 500


@dataclasses.dataclass
class Orphan:
    """A trunk whose server is gone, and why it counts as one."""

    footprint: fp_mod.Footprint
    reason: str
    updated_at: str | None = None
    name: str = ''

    @property
    def trunk(self):
        return self.footprint.trunks[0]

    def to_dict(self):
        record = self.trunk
        return {'trunk_id': record.trunk_id, 'name': self.name,
                'project_id': record.project_id,
                'parent_port_id': record.parent_port_id,
                'subport_ids': [s.port_id for s in record.subports],
                'updated_at': self.updated_at, 'reason': self.reason,
                'server_id': self.footprint.server_id}


def paginated(list_call, key, page_size=None, **filters):
    """Every item of a Neutron or Nova list call, page after page."""
    page_size = page_size or PAGE_SIZE
    marker = None
    while True:
        params = dict(filters, limit=page_size)
        if marker:
            params['marker'] = marker
        items = list_call(**params)[key]
        yield from items
        if len(items) < page_size:
            return
        marker = items[-1]['id']


def parse_age(text):
    """``30s``, ``15m``, ``1h``, ``2d`` as a timedelta.

    :raises ValueError: anything else.
    """
    units = {'s': 'seconds', 'm': 'minutes', 'h': 'hours', 'd': 'days'}
    text = (text or '').strip()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError('not an age like 30s, 15m, 1h or 2d: %r' % text)
    return datetime.timedelta(**{units[text[-1]]: int(text[:-1])})


def _own_project(client):
    credentials = getattr(client.auth_provider, 'credentials', None)
    return getattr(credentials, 'project_id', None)


def _project(resource):
    return resource.get('project_id') or resource.get('tenant_id')


def _updated(trunk):
    stamp = trunk.get('updated_at') or trunk.get('created_at')
    if not stamp:
        return None
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))


def find_orphans(clients, all_projects=False, project_id=None,
                 older_than=None, tags=None, now=None):
    """Trunks whose parent port is unbound or names a gone server.

    :param clients: an object with ``trunks_client``, ``ports_client`` and
        ``servers_client``.
    :param all_projects: look in every project (admin credentials); else
        only the credentials' own project, even for an admin (who sees
        every project's trunks in Neutron).
    :param project_id: only this project's trunks.
    :param older_than: a timedelta; only trunks not updated since.
    :param tags: only trunks carrying all these tags.
    :param now: the current time (UTC), for tests.
    :returns: a list of :class:`Orphan`, oldest first.
    """
    filters = {}
    if project_id:
        filters['project_id'] = project_id
    if tags:
        filters['tags'] = ','.join(tags)
    trunks = list(paginated(clients.trunks_client.list_trunks, 'trunks',
                            **filters))
    if not all_projects and not project_id:
        # Known once the list call has authenticated.
        own = _own_project(clients.trunks_client)
        trunks = [t for t in trunks
                  if own is None or _project(t) == own]
    if older_than is not None:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        trunks = [t for t in trunks
                  if _updated(t) is not None and now - _updated(t) >=
                  older_than]
    if not trunks:
        return []
    parents = leftovers.by_id(clients.ports_client.list_ports, 'ports',
                              [t['port_id'] for t in trunks])
    bound = {p['device_id'] for p in parents.values()
             if p.get('device_id') and p.get('device_owner', '').startswith(
                 leftovers.COMPUTE_OWNER_PREFIX)}
    servers = set()
    if bound:
        params = {'all_tenants': 1} if all_projects else {}
        servers = {s['id'] for s in paginated(
            clients.servers_client.list_servers, 'servers', **params)}
    orphans = []
    for trunk in trunks:
        parent = parents.get(trunk['port_id'])
        if parent is None:
            continue
        device = parent.get('device_id') or ''
        if not device:
            reason = 'parent port %s is unbound' % parent['id']
        elif device in bound and device not in servers:
            reason = ('parent port %s names server %s, which no longer '
                      'exists' % (parent['id'], device))
        else:
            continue
        record = fp_mod.trunk_record(trunk)
        orphans.append(Orphan(
            footprint=fp_mod.Footprint(project_id=record.project_id,
                                       trunks=(record,),
                                       server_id=device or None),
            reason=reason, updated_at=trunk.get('updated_at'),
            name=trunk.get('name', '')))
    orphans.sort(key=lambda o: (o.updated_at or '', o.trunk.trunk_id))
    return orphans
