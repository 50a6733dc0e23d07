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

"""``watch``'s serving loop: its listener, threads and signals.

The service owns how it runs (the notification listener, the sweeper and
the awaiter threads, and the stop on SIGTERM or SIGINT), so the command
only parses its arguments, calls :func:`serve` and says it stopped.
"""

import signal
import threading

from trunk_cleanup_tempest.watch import service


def serve(conf, clients, state_dir, transport_url=None,
          exchange=service.EXCHANGE, sweep_interval=300, stop=None,
          ready=None, *, sweep_orphans=False, sweep_older_than=None,
          **options):
    """Run the service until SIGTERM or SIGINT (or ``stop`` is set).

    :param conf: the oslo.config options that name the bus.
    :param clients: admin clients, as for :class:`~.service.Watcher`.
    :param state_dir: the journal's folder, so a restart resumes.
    :param sweep_interval: seconds between retries of the journal's
        unfinished cleanups (and orphan sweeps, if asked for).
    :param stop: a :class:`threading.Event` that ends the service.
    :param ready: called once it listens and its threads run (the command
        says so).
    :param sweep_orphans: also sweep every project's proven orphans;
        off unless asked for, as ``--sweep-orphans`` is.
    :param sweep_older_than: the minimum age of an orphan a sweep cleans
        (:class:`datetime.timedelta`).
    :param options: the :class:`~.service.Watcher`'s others (``workers``,
        ``timeout``, ``interval``, ``max_wait``).
    :raises OSError: the journal cannot be written.
    """
    watcher = service.Watcher(clients, journal=service.Journal(state_dir),
                              sweep_orphans=sweep_orphans,
                              sweep_older_than=sweep_older_than, **options)
    # A journal it cannot write would make it put back every notification.
    watcher.check_journal()
    listener = service.listener(conf, watcher, transport_url, exchange)
    stop = stop or threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sweeper = threading.Thread(target=watcher.sweep_forever,
                               args=(sweep_interval,), daemon=True)
    awaiter = threading.Thread(target=watcher.await_forever,
                               args=(service.AWAIT_INTERVAL,), daemon=True)
    # Notifications are handled side by side: a delete's end handled
    # before (or while) its start is, is caught up by the start, or by
    # asking Nova. The cleanups themselves run in the watcher's own pool.
    listener.start(override_pool_size=watcher.workers)
    watcher.resume()
    sweeper.start()
    awaiter.start()
    if ready is not None:
        ready()
    stop.wait()
    # A notification waiting to go back to the queue goes now.
    watcher.stopped.set()
    listener.stop()
    listener.wait()
    watcher.stop()
