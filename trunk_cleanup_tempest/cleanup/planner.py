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

"""Turn leftovers into ordered steps, or refusals that say why not.

Neutron's order is fixed: a trunk cannot be deleted while it is disabled
(TrunkDisabled) or, on ML2/OVS, while its parent is bound (TrunkInUse); a
port cannot be deleted while it is a subport (PortInUseAsSubPort) or a
parent (PortInUseAsTrunkParent). Deleting a trunk detaches its subports
with it, in the same guarded write. The parent is settled first: wait
until it is unbound (or unbind it), enable the trunk, delete the trunk,
and only then delete the subports and the parent port. No subport is ever
detached on its own, so a trunk found in use keeps every one.

Nothing is planned for a trunk unless the cloud proves its server deleted
(:mod:`~.evidence`), or the caller asked for unbound trunks with an age
floor and the trunk and its parent have been idle that long.
"""

import dataclasses

from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from trunk_cleanup_tempest.cleanup import leftovers as lo_mod

ENABLE_TRUNK = 'enable_trunk'
WAIT_PARENT_UNBOUND = 'wait_parent_unbound'
UNBIND_PARENT = 'unbind_parent'
DELETE_TRUNK = 'delete_trunk'
DELETE_PORTS = 'delete_ports'


@dataclasses.dataclass
class Step:
    """One write (or wait) and why it is safe.

    ``after`` holds the indexes of the steps that must have succeeded
    first; a step whose prerequisite failed is skipped, not tried.
    """

    action: str
    trunk_id: str
    resource_ids: tuple
    reason: str
    after: tuple = ()

    def to_dict(self):
        return {'action': self.action, 'trunk_id': self.trunk_id,
                'resource_ids': list(self.resource_ids),
                'reason': self.reason}


@dataclasses.dataclass
class Refusal:
    """A resource the cleanup will not touch, and why."""

    kind: str
    id: str
    reason: str

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Plan:
    """The steps, the refusals, and the ports left alone on purpose.

    ``kept`` maps the ID of a port left on purpose to why; ``evidence``
    maps each trunk ID to its class and what the cloud showed for it.
    """

    leftovers: object
    steps: list
    refusals: list
    kept: dict = dataclasses.field(default_factory=dict)
    evidence: dict = dataclasses.field(default_factory=dict)

    @property
    def footprint(self):
        return self.leftovers.footprint

    @property
    def empty(self):
        return not self.steps and not self.refusals


def plan(leftovers, keep_ports=False, project=None, unbind_stale=False,
         delete_parent=False, unbound_older_than=None, now=None):
    """Order the cleanup of ``leftovers``.

    :param leftovers: what :func:`~trunk_cleanup_tempest.cleanup.inspect.
        inspect` returned.
    :param keep_ports: detach and delete the trunk but keep every port.
    :param project: the only project whose resources may be touched (the
        caller's, or the one an admin names); None for every project.
    :param unbind_stale: a parent port that still names a server that is
        gone is unbound by the cleanup (as Nova would have) instead of
        waited for. Needs admin credentials (``binding:host_id``).
    :param delete_parent: also delete a parent port that Nova did not
        create (or that no one knows who did). By default it is kept, as
        Nova itself keeps a port it was given: its owner may boot another
        server on it.
    :param unbound_older_than: a timedelta: also clean a trunk whose
        parent is unbound and whose server is not proven deleted, once the
        trunk and its parent have not changed for that long. None (the
        default): such a trunk is refused, since it may be new.
    :param now: the current time (UTC), for tests.
    :returns: :class:`Plan`
    """
    result = Plan(leftovers, [], [])
    if leftovers.server_alive:
        server = leftovers.server
        if server.status == lo_mod.UNKNOWN:
            reason = ('server %s cannot be proven gone: %s' % (
                server.id, server.evidence))
        else:
            reason = ('server %s still exists (status %s): delete it before '
                      'cleaning up its trunk' % (server.id, server.status))
        result.refusals.extend(Refusal(r.kind, r.id, reason)
                               for r in leftovers.present)
        return result

    for record in leftovers.footprint.trunks:
        _plan_trunk(leftovers, record, result, keep_ports, project,
                    unbind_stale, delete_parent, unbound_older_than, now)
    return result


def _proof(leftovers, record, parent, trunk, subports, unbound_older_than,
           now):
    """(class, evidence, refusal reason or None) for one trunk."""
    if trunk.present and trunk.parent_port != record.parent_port_id:
        # Judged by its recorded parent, it would be judged by another
        # port than the one it stands on (a footprint edited by hand).
        why = ('trunk %s stands on %s, not on parent port %s its footprint '
               'records' % (trunk.id, 'port %s' % trunk.parent_port
                            if trunk.parent_port else 'no port the read '
                            'shows', record.parent_port_id))
        return evidence.UNDECIDABLE, why, why
    if trunk.present and not parent.present:
        # A parent outlives its trunk: one these credentials do not see
        # (another project's) may be bound to any server.
        why = ('trunk %s is in the read but its parent port %s is not: '
               'nothing proves the parent is free' % (trunk.id, parent.id))
        return evidence.UNDECIDABLE, why, why
    server = None
    if parent.present and parent.device_id:
        # holder() passed: it names a server Nova proves gone.
        server = leftovers.devices.get(parent.device_id, leftovers.server)
        if parent.status == 'ACTIVE':
            # A port still wired to a server Nova says is not there: a
            # Nova of another region or cell answers so for live servers.
            why = ('Nova says server %s is not found, but parent port %s '
                   'that names it is ACTIVE: the two disagree' % (
                       parent.device_id, parent.id))
            return evidence.UNDECIDABLE, why, why
    elif leftovers.server is not None:
        server = leftovers.server
        if server.status == lo_mod.NOT_LISTED and not (
                leftovers.footprint.own_server and
                server.project_id == leftovers.footprint.project_id):
            # Nova does not list it to these credentials, of their own
            # project only: unless the footprint knows it as a server of
            # that project, it may be another project's live server.
            server = None
    # The parent's project, or once it is gone, the trunk's as recorded.
    project = parent.project_id if parent.present else record.project_id
    if (server is not None and not server.present and server.project_id
            and server.project_id != project):
        why = ('server %s: Nova lists it deleted in project %s, not project '
               '%s of trunk %s' % (server.id, server.project_id, project,
                                   trunk.id))
        return evidence.UNDECIDABLE, why, why
    if server is not None and not server.present:
        return evidence.SERVER_DELETED, 'server %s: %s' % (
            server.id, server.evidence), None
    facts = 'trunk %s updated at %s, parent port %s updated at %s' % (
        trunk.id, trunk.updated_at or 'unknown', parent.id,
        parent.updated_at or 'unknown')
    if not parent.present:
        facts = 'trunk %s updated at %s' % (trunk.id,
                                            trunk.updated_at or 'unknown')
        unbound = 'is not in the read'
    else:
        unbound = lo_mod.unbound_as_shown(parent)
    unproven = ('not proven: the parent port %s and no server is known to '
                'have used it (%s)' % (unbound, facts))
    if unbound_older_than is None:
        return evidence.PARENT_UNBOUND, unproven, (
            'not proven: no deleted server is known to have used it (it '
            'may be new or wait for its server); cleaned only when unbound '
            'trunks are asked for, with an age floor')
    # A subport added, or a port made, since counts as a change too.
    young = evidence.idle_since(
        unbound_older_than, now, *[{'updated_at': r.updated_at,
                                    'created_at': r.created_at}
                                   for r in [trunk, parent] + subports
                                   if r.present])
    if young:
        return (evidence.PARENT_UNBOUND, unproven,
                'not proven, and %s' % young)
    return (evidence.PARENT_UNBOUND, '%s; cleaned as asked: unchanged for '
            'at least %s' % (unproven, unbound_older_than), None)


def _plan_trunk(leftovers, record, result, keep_ports, project,
                unbind_stale, delete_parent, unbound_older_than, now):
    steps, refusals = result.steps, result.refusals
    trunk = leftovers.trunks[record.trunk_id]
    parent = leftovers.ports[record.parent_port_id]
    subports = [leftovers.ports[s.port_id] for s in record.subports]

    def foreign(res):
        return (res.present and project is not None and
                res.project_id != project)

    def refuse(res, reason):
        if res.present:
            refusals.append(Refusal(res.kind, res.id, reason))

    def add(action, ids, reason, after=()):
        steps.append(Step(action, record.trunk_id, tuple(ids), reason,
                          tuple(i for i in after if i is not None)))
        return len(steps) - 1

    # Whatever pins the trunk or its parent pins every port on it.
    blocker = None
    for res in (trunk, parent):
        if foreign(res):
            blocker = ('%s %s belongs to project %s, not %s' %
                       (res.kind, res.id, res.project_id, project))
            break
    if blocker is None and parent.present:
        holder = leftovers.holder(parent)
        if holder:
            blocker = 'parent port %s is %s' % (parent.id, holder)
    recorded = {s.port_id for s in record.subports}
    new = sorted(set(trunk.sub_ports or ()) - recorded)
    if blocker is None and trunk.present and new:
        # Added since the footprint was recorded: someone uses it again.
        blocker = ('trunk %s has subport(s) %s that its footprint does not '
                   'have: it may be in use again' % (trunk.id,
                                                     ', '.join(new)))
    if blocker is None:
        cls, shown, blocker = _proof(leftovers, record, parent, trunk,
                                     subports, unbound_older_than, now)
        result.evidence[record.trunk_id] = {'class': cls,
                                            'evidence': shown}
    else:
        result.evidence[record.trunk_id] = {'class': evidence.IN_USE,
                                            'evidence': blocker}
    if blocker:
        refuse(trunk, blocker)
        for res in [parent] + subports:
            refuse(res, 'on trunk %s, which is refused' % trunk.id
                   if trunk.present else blocker)
        return

    settle = enable = delete = None
    if parent.present and parent.device_id:
        # Neutron shows (and lets write) a binding to an admin only:
        # others clean as if not asked to unbind.
        if unbind_stale and parent.binding_host is not None:
            settle = add(UNBIND_PARENT, [parent.id],
                         'the parent still names gone server %s: unbind '
                         'it as Nova would have' % parent.device_id)
        elif trunk.present:
            settle = add(WAIT_PARENT_UNBOUND, [parent.id],
                         'the parent still names gone device %s: its '
                         'trunk cannot be deleted while it is bound' %
                         parent.device_id)
    if trunk.present:
        if trunk.admin_state_up is False:
            enable = add(ENABLE_TRUNK, [trunk.id],
                         'the trunk is disabled: Neutron refuses every '
                         'change to it (TrunkDisabled)', after=[settle])
        delete = add(DELETE_TRUNK, [trunk.id],
                     'the trunk pins its parent port and subports and is '
                     'no longer used (%s); its subports are detached with '
                     'it' % result.evidence[trunk.id]['class'],
                     after=[settle, enable])

    if keep_ports:
        result.kept.update((p.id, 'kept: the ports were asked to be kept')
                           for p in [parent] + subports if p.present)
        return
    deletable = []
    # Across projects, a port is deleted only in the trunk's own project:
    # an admin or a network owner may have put another project's on it.
    owner = project or trunk.project_id or record.project_id

    def not_owners(port):
        return ('belongs to project %s, not %s' % (port.project_id, owner)
                if owner and port.project_id != owner else None)
    for port in subports:
        if not port.present:
            continue
        reason = not_owners(port) or leftovers.holder(port)
        if reason:
            refuse(port, 'subport %s %s' % (port.id, reason))
        else:
            deletable.append(port.id)
    if (parent.present and not delete_parent and
            record.parent_created_by != fp_mod.CREATED_BY_COMPUTE):
        result.kept[parent.id] = (
            'kept: a parent port Nova did not create, as Nova keeps it; '
            'ask to delete parent ports to remove it'
            if record.parent_created_by == fp_mod.CREATED_BY_USER else
            'kept: who created this parent port is not known, so it is kept '
            'as Nova keeps a port it was given; ask to delete parent ports '
            'to remove it')
    elif parent.present:
        foreign_parent = not_owners(parent)
        if foreign_parent:
            refuse(parent, 'parent port %s %s' % (parent.id, foreign_parent))
        else:
            deletable.append(parent.id)
    if deletable:
        # One step, so one read of them all before their deletes.
        add(DELETE_PORTS, deletable,
            'a port of the trunk, free once the trunk is deleted',
            after=[settle, delete])
