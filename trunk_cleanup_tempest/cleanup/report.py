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

"""The outcome of a cleanup, for tests to assert on and people to read."""

import dataclasses
import json

DONE = 'done'
GONE = 'already-gone'
WOULD = 'would-do'
FAILED = 'failed'
SKIPPED = 'skipped'
REFUSED = 'refused'

# Outcomes after which the resource is where the step meant it to be.
SUCCEEDED = (DONE, GONE, WOULD)


@dataclasses.dataclass
class Action:
    """What happened to one resource in one step."""

    action: str
    kind: str
    id: str
    outcome: str
    detail: str = ''

    def to_dict(self):
        return dataclasses.asdict(self)

    def __str__(self):
        text = '%-10s %-20s %-5s %s' % (self.outcome, self.action,
                                        self.kind, self.id)
        return '%s: %s' % (text, self.detail) if self.detail else text


@dataclasses.dataclass
class Report:
    """Everything a cleanup did, would do, or could not do.

    ``left`` lists the footprint's resources that still exist when the run
    ends, each with the reason it is still there; ``kept`` the ports that
    stay because the caller asked to keep them; ``calls`` how many API
    calls the run made, by client method, so its cost can be checked.
    """

    footprint: object
    dry_run: bool
    actions: list
    left: list
    kept: list = dataclasses.field(default_factory=list)
    calls: dict = dataclasses.field(default_factory=dict)
    # Each trunk's class and the evidence for it (see cleanup.evidence).
    evidence: dict = dataclasses.field(default_factory=dict)

    @property
    def clean(self):
        return not self.left

    def count(self, outcome):
        return sum(1 for a in self.actions if a.outcome == outcome)

    @property
    def summary(self):
        if not self.actions and self.clean:
            # A list read shows what exists and is visible, no more.
            return ('nothing to do: no trunk or port of the footprint is '
                    'in Neutron\'s answers')
        if self.dry_run:
            return ('dry run: %d change(s) would be made, %d refused; '
                    'nothing was written' % (self.count(WOULD),
                                             self.count(REFUSED)))
        if self.clean:
            return 'clean: %d change(s) made, nothing left' % self.count(DONE)
        return ('%d resource(s) left: %d change(s) made, %d failed, '
                '%d refused, %d skipped' % (
                    len(self.left), self.count(DONE), self.count(FAILED),
                    self.count(REFUSED), self.count(SKIPPED)))

    def to_dict(self):
        return {
            'server_id': self.footprint.server_id,
            'project_id': self.footprint.project_id,
            'trunk_ids': self.footprint.trunk_ids,
            'dry_run': self.dry_run,
            'clean': self.clean,
            'summary': self.summary,
            'actions': [a.to_dict() for a in self.actions],
            'left': self.left,
            'kept': self.kept,
            'calls': self.calls,
            'evidence': self.evidence,
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def __str__(self):
        lines = ['%-10s %-20s %-5s %s: %s' % (
            'evidence', shown['class'], 'trunk', trunk_id, shown['evidence'])
            for trunk_id, shown in sorted(self.evidence.items())]
        lines += [str(a) for a in self.actions]
        lines.extend('%-10s %-20s %-5s %s: %s' % (
            state, '', r['kind'], r['id'], r['reason'])
            for state, rows in (('left', self.left), ('kept', self.kept))
            for r in rows)
        lines.append(self.summary)
        return '\n'.join(lines)


def failed(footprint, dry_run, why):
    """The report of a footprint whose cleanup could not run to its end.

    Nothing is known of what is left, so all of it is listed as left.
    """
    reason = 'not known: the cleanup failed: %s' % why
    left = ([{'kind': 'trunk', 'id': t, 'reason': reason}
             for t in footprint.trunk_ids] +
            [{'kind': 'port', 'id': p, 'reason': reason}
             for p in footprint.port_ids])
    return Report(footprint=footprint, dry_run=dry_run, left=left,
                  actions=[Action('cleanup', 'footprint',
                                  ', '.join(footprint.trunk_ids), FAILED,
                                  why)])
