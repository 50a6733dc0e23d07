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

"""Find trunks that deleted servers may have left, and say what is proven.

Every trunk of the projects asked for is read (every page, by the cloud's
next links), then its parent port, then (only for parents that name a
server) Nova: the servers listed in the same project set, and a show of
each one missing from that list, since only Nova's own ``itemNotFound``
proves a server gone. Each candidate carries its class
(:mod:`~.evidence`):

* ``server-deleted``: the parent names a server Nova proves gone;
* ``parent-unbound``: nothing holds the parent, and nothing proves a
  server ever did (it may be new, or wait for a server);
* ``undecidable``: the parent names a server Nova would not answer for.

A trunk whose parent is held by a live server or any other device is in
use and not listed.
"""

import dataclasses
import datetime

from oslo_log import log as logging

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest.cleanup import planner

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Orphan:
    """A candidate trunk, its class, and the evidence for that class."""

    footprint: fp_mod.Footprint
    reason: str
    updated_at: str | None = None
    name: str = ''
    cls: str = evidence.PARENT_UNBOUND
    evidence: dict = dataclasses.field(default_factory=dict)

    @property
    def trunk(self):
        return self.footprint.trunks[0]

    @property
    def proven(self):
        return self.cls in evidence.PROVEN

    def to_dict(self):
        record = self.trunk
        return {'trunk_id': record.trunk_id, 'name': self.name,
                'project_id': record.project_id,
                'parent_port_id': record.parent_port_id,
                'subport_ids': [s.port_id for s in record.subports],
                'updated_at': self.updated_at, 'reason': self.reason,
                'server_id': self.footprint.server_id, 'class': self.cls,
                'evidence': self.evidence}


def parse_age(text):
    """``30s``, ``15m``, ``1h``, ``2d`` as a timedelta.

    :raises ValueError: anything else.
    """
    units = {'s': 'seconds', 'm': 'minutes', 'h': 'hours', 'd': 'days'}
    text = (text or '').strip()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError('not an age like 30s, 15m, 1h or 2d: %r' % text)
    return datetime.timedelta(**{units[text[-1]]: int(text[:-1])})


def _project(resource):
    return resource.get('project_id') or resource.get('tenant_id')


def _facts(trunk, parent):
    return {'trunk_status': trunk.get('status'),
            'trunk_created_at': trunk.get('created_at'),
            'trunk_updated_at': trunk.get('updated_at'),
            'trunk_revision_number': trunk.get('revision_number'),
            'parent_status': parent.get('status'),
            'parent_created_at': parent.get('created_at'),
            'parent_updated_at': parent.get('updated_at'),
            'parent_revision_number': parent.get('revision_number')}


def find_orphans(clients, all_projects=False, project_id=None,
                 older_than=None, tags=None, now=None, journal=None):
    """Trunks whose parent port is unbound or names a server not alive.

    :param clients: an object with ``trunks_client``, ``ports_client`` and
        ``servers_client``.
    :param all_projects: look in every project (admin credentials); else
        only ``project_id``, or the credentials' own project, even for an
        admin (who sees every project's trunks in Neutron).
    :param project_id: only this project's trunks.
    :param older_than: a timedelta; only trunks that, with their parent
        port, have not changed for that long.
    :param tags: only trunks carrying all these tags.
    :param now: the current time (UTC), for tests.
    :param journal: a :class:`~.journal.Journal`: its footprints that are
        not clean yet (a run that did not finish) are listed too.
    :returns: a list of :class:`Orphan`, oldest first.
    :raises InvalidOptions: see :func:`~.evidence.scope`.
    """
    filters = {}
    if project_id:
        filters['project_id'] = project_id
    if tags:
        filters['tags'] = ','.join(tags)
    trunks = list(listing.paginated(clients.trunks_client.list_trunks,
                                    'trunks', **filters))
    # Known once the list call has authenticated.
    project = evidence.scope(clients.trunks_client, all_projects, project_id)
    if project is not None:
        trunks = [t for t in trunks if _project(t) == project]
    unfinished = _journaled(clients, journal, project,
                            {t['id'] for t in trunks}) if journal else []
    if not trunks:
        return unfinished
    parents = listing.by_id(clients.ports_client.list_ports, 'ports',
                            [t['port_id'] for t in trunks])
    if older_than is not None:
        trunks = [t for t in trunks if t['port_id'] in parents and
                  evidence.idle_since(older_than, now, t,
                                      parents[t['port_id']]) is None]
    servers = _servers(clients, project, [
        p['device_id'] for p in parents.values()
        if p.get('device_id') and (p.get('device_owner') or '').startswith(
            leftovers.COMPUTE_OWNER_PREFIX)])
    orphans = []
    for trunk in trunks:
        parent = parents.get(trunk['port_id'])
        if parent is None:
            continue
        found = _classify(parent, servers)
        if found is None:
            continue
        cls, reason, server_id, proof = found
        facts = _facts(trunk, parent)
        if proof:
            facts['server'] = proof
        record = fp_mod.trunk_record(trunk)
        orphans.append(Orphan(
            footprint=fp_mod.Footprint(project_id=record.project_id,
                                       trunks=(record,),
                                       server_id=server_id),
            reason=reason, updated_at=trunk.get('updated_at'),
            name=trunk.get('name', ''), cls=cls, evidence=facts))
    orphans.sort(key=lambda o: (o.updated_at or '', o.trunk.trunk_id))
    return unfinished + orphans


def _journaled(clients, journal, project, listed):
    """The journal's footprints that a run left unfinished.

    Their subports may be on no trunk any more: only the journal links
    them to the trunk and its server.
    """
    pending = [fp for fp in journal.pending()
               if not set(fp.trunk_ids) & listed and
               (project is None or fp.project_id == project)]
    if not pending:
        return []
    found = []
    for fp, left in zip(pending, leftovers.inspect_many(clients, pending)):
        if left.clean:
            continue
        if left.server_alive:
            if left.server.status != leftovers.UNKNOWN:
                continue
            cls = evidence.UNDECIDABLE
        else:
            # Classed as the cleanup would class it now.
            cls = planner.plan(left, project=project).evidence[
                fp.trunk_ids[0]]['class']
        if cls == evidence.IN_USE:
            continue
        server = left.server
        found.append(Orphan(
            footprint=fp, cls=cls,
            reason='a cleanup of it did not finish: %d resource(s) left '
                   '(journal %s)' % (len(left.present), journal.folder),
            evidence={'journal': journal.folder,
                      'server': server.evidence if server else None,
                      'left': sorted(r.id for r in left.present)}))
    return found


def _servers(clients, project, device_ids):
    """``{server ID: ResourceState}`` of the servers parents name.

    Listed in the same project set as the trunks; one missing from the
    list is shown on its own, since only Nova's ``itemNotFound`` for that
    ID proves it gone (a list can be capped, scoped or filtered).
    """
    if not device_ids:
        return {}
    params = {}
    if project is None:
        params['all_tenants'] = 1
    elif project != evidence.own_project(clients.trunks_client):
        # An admin for another project (Nova's admin-only filter).
        params.update(all_tenants=1, project_id=project)
    try:
        listed = {s['id'] for s in listing.paginated(
            clients.servers_client.list_servers, 'servers', **params)}
    except evidence.LIST_ERRORS as exc:
        # Each is asked about on its own: what Nova will not answer for
        # is undecidable, not gone.
        LOG.warning('servers not listed (%s): each is shown on its own',
                    errors.error_text(exc))
        listed = set()
    states = {}
    for server_id in sorted(set(device_ids)):
        if server_id in listed:
            states[server_id] = leftovers.ResourceState(
                kind=leftovers.SERVER, id=server_id, present=True,
                evidence='Nova lists it')
        else:
            states[server_id] = leftovers.server_state(
                clients.servers_client, server_id)
    return states


def _classify(parent, servers):
    """(class, reason, server ID, Nova's evidence), or None if in use."""
    device = parent.get('device_id') or ''
    if not device:
        return (evidence.PARENT_UNBOUND,
                'parent port %s %s: nothing proves a server used it (the '
                'trunk may be new or wait for its server)' % (
                    parent['id'], leftovers.unbound_as_shown(
                        leftovers.port_state(parent))), None, None)
    if not (parent.get('device_owner') or '').startswith(
            leftovers.COMPUTE_OWNER_PREFIX):
        return None
    server = servers[device]
    if server.status in (leftovers.UNKNOWN, leftovers.NOT_LISTED):
        return (evidence.UNDECIDABLE,
                'parent port %s names server %s, which cannot be proven '
                'gone: %s' % (parent['id'], device, server.evidence),
                device, server.evidence)
    if server.present:
        return None
    project = parent.get('project_id') or parent.get('tenant_id')
    if server.project_id and server.project_id != project:
        # device_id is free text: Nova binds ports of the server's project.
        return (evidence.UNDECIDABLE,
                'parent port %s names server %s, which Nova lists deleted in '
                'project %s, not the port\'s project %s: Nova did not bind '
                'it' % (parent['id'], device, server.project_id, project),
                device, server.evidence)
    if parent.get('status') == 'ACTIVE':
        return (evidence.UNDECIDABLE,
                'parent port %s names server %s, which Nova says is not '
                'found, but the port is ACTIVE: the two disagree'
                % (parent['id'], device), device, server.evidence)
    return (evidence.SERVER_DELETED,
            'parent port %s names server %s, which Nova proves deleted'
            % (parent['id'], device), device, server.evidence)
