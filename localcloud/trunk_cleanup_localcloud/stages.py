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

"""Run ``up``'s stages, each once the stages it waits for are done.

The stages that do not wait for each other run at once; the first failure
stops the cloud, so the stages still waiting fail at once too.
"""

from concurrent import futures
import time

from trunk_cleanup_localcloud import process


def run_stages(stages, report, abort):
    """Run each stage once those it waits for are done, the others at once.

    :returns: ``[(name, seconds)]`` in the order they finished.

    :param stages: ``(name, step, log, after)``; a step may return a note.
    :param report: called with ``(name, seconds, note)`` as each ends.
    :param abort: called once, at the first failure, before waiting for
        the stages still running; the first error is then raised.
    """
    def timed(name, step, log):
        started = time.monotonic()
        try:
            note = step()
        except process.CloudError:
            raise
        except Exception as exc:
            raise process.CloudError(name, 'up', log, '%s: %s' % (
                type(exc).__name__, exc))
        return time.monotonic() - started, note

    pending = list(stages)
    done, running, timings, failures = set(), {}, [], []
    with futures.ThreadPoolExecutor(len(pending)) as pool:
        try:
            while pending or running:
                if not failures:
                    for stage in [s for s in pending if set(s[3]) <= done]:
                        pending.remove(stage)
                        running[pool.submit(timed, *stage[:3])] = stage[0]
                if not running:
                    break
                finished, _ = futures.wait(
                    running, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    try:
                        seconds, note = future.result()
                    except BaseException as exc:
                        if not failures:
                            abort()
                        failures.append(exc)
                        continue
                    done.add(name)
                    timings.append((name, seconds))
                    report(name, seconds, note)
        except BaseException:
            abort()
            raise
    if failures:
        raise failures[0]
    if pending:
        raise process.CloudError('local cloud', 'up', detail='stages wait '
                                 'for one that never runs: %s'
                                 % ', '.join(s[0] for s in pending))
    return timings
