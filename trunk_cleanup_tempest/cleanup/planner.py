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
parent (PortInUseAsTrunkParent). Hence: enable the trunk, remove every
subport in one call, wait until the parent is unbound, delete the trunk,
then delete the subports and the parent port.
"""

import dataclasses

from trunk_cleanup_tempest.cleanup import footprint as fp_mod

ENABLE_TRUNK = 'enable_trunk'
REMOVE_SUBPORTS = 'remove_subports'
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

    ``kept`` maps the ID of a port the caller asked to keep to why.
    """

    leftovers: object
    steps: list
    refusals: list
    kept: dict = dataclasses.field(default_factory=dict)

    @property
    def footprint(self):
        return self.leftovers.footprint

    @property
    def empty(self):
        return not self.steps and not self.refusals


def plan(leftovers, keep_ports=False, all_projects=False,
         unbind_stale=False, keep_user_parents=False):
    """Order the cleanup of ``leftovers``.

    :param leftovers: what :func:`~trunk_cleanup_tempest.cleanup.inspect.
        inspect` returned.
    :param keep_ports: detach and delete the trunk but keep every port.
    :param all_projects: allow acting on resources of other projects than
        the footprint's (an admin cleaning for a project).
    :param unbind_stale: a parent port that still names a server that is
        gone is unbound by the cleanup (as Nova would have) instead of
        waited for. Needs admin credentials (``binding:host_id``).
    :param keep_user_parents: delete the trunk and its subports, but keep a
        parent port that Nova did not create (or that no one knows who
        did), as Nova itself keeps a port it was given: its owner may boot
        another server on it.
    :returns: :class:`Plan`
    """
    result = Plan(leftovers, [], [])
    if leftovers.server_alive:
        reason = ('server %s still exists (status %s): delete it before '
                  'cleaning up its trunk' % (leftovers.server.id,
                                             leftovers.server.status))
        result.refusals.extend(Refusal(r.kind, r.id, reason)
                               for r in leftovers.present)
        return result

    for record in leftovers.footprint.trunks:
        _plan_trunk(leftovers, record, result, keep_ports, all_projects,
                    unbind_stale, keep_user_parents)
    return result


def _plan_trunk(leftovers, record, result, keep_ports, all_projects,
                unbind_stale, keep_user_parents):
    fp = leftovers.footprint
    steps, refusals = result.steps, result.refusals
    trunk = leftovers.trunks[record.trunk_id]
    parent = leftovers.ports[record.parent_port_id]
    subports = [leftovers.ports[s.port_id] for s in record.subports]

    def foreign(res):
        return (res.present and not all_projects and
                res.project_id != fp.project_id)

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
                       (res.kind, res.id, res.project_id, fp.project_id))
            break
    if blocker is None and parent.present:
        holder = leftovers.holder(parent)
        if holder:
            blocker = 'parent port %s is %s' % (parent.id, holder)
    if blocker:
        for res in [trunk, parent] + subports:
            refuse(res, blocker)
        return

    enable = remove = wait = delete = None
    if trunk.present:
        if trunk.admin_state_up is False:
            enable = add(ENABLE_TRUNK, [trunk.id],
                         'the trunk is disabled: Neutron refuses every '
                         'change to it (TrunkDisabled)')
        if trunk.sub_ports:
            remove = add(REMOVE_SUBPORTS, trunk.sub_ports,
                         'a trunk with subports cannot be deleted, and a '
                         'subport cannot be deleted while on a trunk',
                         after=[enable])
        if parent.present and parent.device_id and unbind_stale:
            wait = add(UNBIND_PARENT, [parent.id],
                       'the parent still names gone server %s: unbind it '
                       'as Nova would have' % parent.device_id)
        elif parent.present and parent.device_id:
            wait = add(WAIT_PARENT_UNBOUND, [parent.id],
                       'the parent still names gone device %s: its trunk '
                       'cannot be deleted while it is bound' %
                       parent.device_id)
        delete = add(DELETE_TRUNK, [trunk.id],
                     'the server is gone and the trunk pins its parent '
                     'port', after=[enable, remove, wait])

    if keep_ports:
        result.kept.update((p.id, 'kept: the ports were asked to be kept')
                           for p in [parent] + subports if p.present)
        return
    deletable = []
    for port in subports:
        if not port.present:
            continue
        reason = ('belongs to project %s, not %s' %
                  (port.project_id, fp.project_id) if foreign(port)
                  else leftovers.holder(port))
        if reason:
            refuse(port, 'subport %s %s' % (port.id, reason))
        else:
            deletable.append(port.id)
    if deletable:
        add(DELETE_PORTS, deletable,
            'subports of a deleted server, detached from the trunk',
            after=[remove])
    if (parent.present and keep_user_parents and
            record.parent_created_by != fp_mod.CREATED_BY_COMPUTE):
        result.kept[parent.id] = (
            'kept: a parent port Nova did not create (created by %s), as '
            'Nova keeps it' % record.parent_created_by)
    elif parent.present:
        add(DELETE_PORTS, [parent.id],
            'parent port of a deleted server, its trunk deleted',
            after=[delete])
