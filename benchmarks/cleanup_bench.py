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

"""Benchmark the cleanup of many orphaned trunks on the local cloud.

Run by ``tox -e bench`` while the local cloud is up. Every call to Neutron
and Nova goes through the fault proxy with an added latency, and is
counted there, on the wire, with the connection it came on. Three runs,
each figure a ratio measured in the same run:

* CPU-bound (20 ms a call): wall time and API calls of the library
  (``find_orphans`` + ``cleanup_many``) against the floor for the
  workload, the CPU time the cloud used for it (over the cores: the least
  wall time any client could get; the proxy's and the bench's own CPU
  and the idle share of the cores beside it), a plain sequential cleanup,
  the same writes with no reads and unbounded concurrency, and the
  cloud's own limit (as many of its cheapest deletes at once);
* latency-bound (200 ms a call, a remote region as an operator sees it):
  the library against the sequential cleanup, the cloud-CPU floor and
  the same writes with no reads and unbounded concurrency (the most
  speed-up the cloud gave at that latency);
* growth: the library on 4 times the trunks, its calls, wall time and
  the cloud's CPU against runs on the base size right before and after
  it.

Then the scenario suite's tempest run time.
"""

import argparse
import collections
from concurrent import futures
import datetime
import math
import os
import re
import subprocess
import sys
import time
import uuid

from tempest.lib.common.utils import data_utils
from tempest.lib import exceptions as lib_exc
from tempest.lib.services.network import networks_client
from tempest.lib.services.network import quotas_client
from tempest.lib.services.network import tags_client

from trunk_cleanup_localcloud import cli as localcloud_cmd
from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import faultproxy
from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest import clients as clients_mod


def build_parser():
    parser = argparse.ArgumentParser(prog='cleanup_bench',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--trunks', type=int, default=200)
    parser.add_argument('--subports', type=int, default=4)
    parser.add_argument('--latency', type=float, default=0.02,
                        help='seconds added to every call (default: '
                             '%(default)s)')
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--remote-latency', type=float, default=0.2,
                        help='seconds added to every call of the latency-'
                             'bound run (default: %(default)s)')
    parser.add_argument('--remote-trunks', type=int, default=50,
                        help='trunks of the latency-bound run (default: '
                             '%(default)s; 0 skips it)')
    parser.add_argument('--growth', type=int, default=4,
                        help='the growth run cleans this many times '
                             '--trunks (default: %(default)s; 0 skips it)')
    parser.add_argument('--skip-tempest', action='store_true')
    return parser


class Workload:
    """Orphaned trunks with subports, made directly (not through the proxy)."""

    def __init__(self, env, trunks, subports):
        # Set-up, not measured: a loaded Neutron is given its time.
        self.clients = clients_mod.from_environ(env, workers=16,
                                                timeout=600)
        self.networks = self.clients.client(networks_client.NetworksClient,
                                            'network')
        self.tags = self.clients.client(tags_client.TagsClient, 'network')
        self.trunks = trunks
        self.subports = subports

    def lift_quotas(self, admin_env):
        """The workload is over Neutron's default quota of 500 ports."""
        quotas = clients_mod.from_environ(admin_env).client(
            quotas_client.QuotasClient, 'network')
        self.clients.ports_client.list_ports(limit=1)  # authenticates
        project = self.clients.ports_client.project_id
        quotas.update_quotas(project, port=-1, trunk=-1, network=-1)

    def make(self, workers, count=None):
        """Make ``count`` trunks in parallel; returns their tag."""
        count = count or self.trunks
        tag = data_utils.rand_name('bench')
        net = self.networks.create_network(name=tag)['network']['id']

        def one(_):
            # One bulk create for a trunk's ports: the workload is set-up,
            # not what is measured.
            ports = [p['id'] for p in self.bulk_ports(net)]
            trunk = self.clients.trunks_client.create_trunk(
                port_id=ports[0], sub_ports=[
                    {'port_id': p, 'segmentation_type': 'vlan',
                     'segmentation_id': 100 + i}
                    for i, p in enumerate(ports[1:])])['trunk']
            self.tags.create_tag('trunks', trunk['id'], tag)
        with futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, range(count)))
        self.network_id = net
        return tag

    def bulk_ports(self, net, attempts=3):
        """A trunk's ports in one create, made again on a MAC collision.

        Thousands of ports on one network make two random MACs meet (the
        pair is unique per network): ML2 then refuses the whole bulk
        create, in one transaction (``Ml2Plugin._create_port_bulk``), so
        making it again leaves nothing behind.
        """
        for attempt in range(attempts):
            try:
                return self.clients.ports_client.create_bulk_ports(
                    ports=[{'network_id': net}] * (self.subports + 1)
                )['ports']
            except lib_exc.Conflict as exc:
                if ('mac_address' not in str(exc) or
                        attempt == attempts - 1):
                    raise

    def floor(self, count=None):
        """Writes per trunk, plus the list calls of finding them.

        A trunk's delete detaches its subports: per trunk, one delete of
        it and one of each port.
        """
        trunks = count or self.trunks
        lists = (math.ceil((trunks + 1) / listing.PAGE_SIZE) +
                 math.ceil(trunks / listing.IDS_PER_CALL))
        return trunks * (1 + self.subports + 1) + lists

    def drop_network(self):
        self.networks.delete_network(self.network_id)


def library(clients, tag, workers):
    # The bench's trunks never had a server: they are cleaned as unbound
    # trunks asked for, and their parents with them, as the sequential
    # script does.
    found = cleanup.find_orphans(clients, tags=[tag])
    reports = cleanup.cleanup_many(clients, [o.footprint for o in found],
                                   workers=workers, interval=0.2,
                                   unbound_older_than=datetime.timedelta(0),
                                   delete_parent=True)
    return len(found), sum(1 for r in reports if r.clean)


def sequential(clients, tag):
    """What a plain script does: one call after the other, no checks."""
    trunks = clients.trunks_client.list_trunks(tags=tag)['trunks']
    for trunk in trunks:
        subs = [s['port_id'] for s in trunk['sub_ports']]
        clients.trunks_client.delete_subports_from_trunk(
            trunk['id'], [{'port_id': p} for p in subs])
        clients.trunks_client.delete_trunk(trunk['id'])
        for port in subs + [trunk['port_id']]:
            clients.ports_client.delete_port(port)
    return len(trunks)


def unbounded(clients, tag):
    """The same writes, no reads, each phase all at once.

    What the cloud can do at most for this very workload.
    """
    trunks = clients.trunks_client.list_trunks(tags=tag)['trunks']
    subs = {t['id']: [s['port_id'] for s in t['sub_ports']] for t in trunks}
    # A trunk's delete detaches its subports, as the library relies on.
    phases = [
        [lambda t=t: clients.trunks_client.delete_trunk(t['id'])
         for t in trunks],
        [lambda p=p: clients.ports_client.delete_port(p)
         for t in trunks for p in subs[t['id']] + [t['port_id']]]]
    for calls in phases:
        with futures.ThreadPoolExecutor(min(len(calls), 256)) as pool:
            list(pool.map(through_the_gateway, calls))


def through_the_gateway(call, attempts=3):
    """The call, made again when the proxy says Neutron did not answer.

    At 256 calls at once an overloaded API drops connections (a 502 from
    the proxy); the write may have landed, so a 404 on the next try is
    done too.
    """
    for attempt in range(attempts):
        try:
            return call()
        except lib_exc.NotFound:
            if not attempt:
                raise
            return None
        except lib_exc.UnexpectedResponseCode as exc:
            if (getattr(exc, 'resp', None) is None or
                    exc.resp.status not in (502, 503, 504) or
                    attempt == attempts - 1):
                raise
        # A moment for the API to drain, longer each time.
        time.sleep(0.5 * (attempt + 1))


def cloud_limit(clients, calls):
    """``calls`` cheapest deletes (of ports that do not exist), all at once."""
    def one(_):
        try:
            clients.ports_client.delete_port(str(uuid.uuid4()))
        except Exception:  # noqa: B902 - a 404 is the point
            pass
    with futures.ThreadPoolExecutor(min(calls, 256)) as pool:
        list(pool.map(one, range(calls)))


def cloud_cpu_seconds(cloud, proxy=False):
    """CPU time the cloud's processes have used (the proxy excepted).

    Every process the cloud starts leads a session of its own, which its
    children (gunicorn's workers, privsep daemons) stay in. On a machine
    the cloud shares, this over the cores is the least wall time any
    client can get for the work: the cloud's own floor.

    :param proxy: the proxy's alone instead.
    """
    procs = cloud.layout().processes
    sessions = {procs.pid(name) for name in procs.names()
                if (name == faultproxy.NAME) == proxy}
    ticks = 0
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[3]) in sessions:  # the session
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf('SC_CLK_TCK')


_ID = re.compile(r'/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                 r'[0-9a-f]{12}')


def breakdown(events):
    """``METHOD /path/{id}: count``, the most frequent first."""
    kinds = collections.Counter(
        '%s %s' % (e['method'], _ID.sub('/{id}', e['path'].split('?')[0]))
        for e in events)
    return ', '.join('%s: %d' % kv for kv in kinds.most_common())


# The cores this machine gives the cloud (and the bench).
CORES = len(os.sched_getaffinity(0))


def connections(events):
    """Client connections the calls came on (one per call: none reused)."""
    return len({e.get('connection') for e in events})


def machine_ticks():
    """(idle, all) ticks of this machine's cores so far (``/proc/stat``)."""
    with open('/proc/stat') as f:
        # user nice system idle iowait irq softirq steal: guest time
        # after them is counted in user already.
        ticks = [int(t) for t in f.readline().split()[1:9]]
    return ticks[3] + ticks[4], sum(ticks)


class Usage:
    """Who used the cores over a stretch: the cloud, the proxy, the bench."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.start = self._now()

    def _now(self):
        own = os.times()
        return (cloud_cpu_seconds(self.cloud),
                cloud_cpu_seconds(self.cloud, proxy=True),
                own.user + own.system) + machine_ticks()

    def stop(self):
        now = self._now()
        (self.cloud_cpu, self.proxy_cpu, self.client_cpu, idle,
         total) = [b - a for a, b in zip(self.start, now)]
        self.idle = idle / total if total else 0.0
        return self


class Measured:
    """One library run: wall time, calls on the wire, the cloud's CPU."""

    def __init__(self, seconds, found, clean, events, usage):
        self.seconds = seconds
        self.found = found
        self.clean = clean
        self.events = events
        self.calls = len(events)
        self.usage = usage
        self.cpu = usage.cloud_cpu
        # No client on the cloud's cores can beat this wall time.
        self.cpu_floor = self.cpu / CORES
        # Nor, on cores it shares with the proxy, this one.
        self.shared_floor = (self.cpu + usage.proxy_cpu) / CORES

    def figures(self, floor):
        """Wall time, calls, what was cleaned, and the cloud's CPU."""
        return ('%.1f s  %d calls  calls/floor %.2fx  (%d found, %d clean)  '
                'cloud CPU %.1f s (%.0f ms a call on the wire): library / '
                'CPU floor %.2fx' % (
                    self.seconds, self.calls, self.calls / floor, self.found,
                    self.clean, self.cpu, 1000 * self.cpu / self.calls,
                    self.seconds / self.cpu_floor))

    def cores(self):
        """Where the cores went meanwhile, and the floor with the proxy."""
        return ('the proxy used %.1f s of CPU and the bench %.1f s on the '
                'same cores, %.0f%% of them idle; library / (cloud + proxy) '
                'CPU floor %.2fx' % (
                    self.usage.proxy_cpu, self.usage.client_cpu,
                    100 * self.usage.idle,
                    self.seconds / self.shared_floor))


def measure_library(cloud, proxy, clients, work, workers, count=None):
    tag = work.make(workers, count)
    proxy.events()
    usage = Usage(cloud)
    seconds, (found, clean) = timed(library, clients, tag, workers)
    usage.stop()
    events = proxy.events()
    work.drop_network()
    return Measured(seconds, found, clean, events, usage)


Baseline = collections.namedtuple('Baseline', 'seconds calls cpu')


def measure_baseline(baseline, cloud, proxy, clients, work, workers,
                     count=None):
    """A :data:`Baseline`: wall time, calls and cloud CPU of ``baseline``.

    ``baseline`` is sequential or unbounded.
    """
    tag = work.make(workers, count)
    proxy.events()
    usage = Usage(cloud)
    seconds, _ = timed(baseline, clients, tag)
    usage.stop()
    calls = len(proxy.events())
    work.drop_network()
    return Baseline(seconds, calls, usage.cloud_cpu)


def timed(func, *args):
    start = time.monotonic()
    result = func(*args)
    return time.monotonic() - start, result


def main(argv=None, out=sys.stdout):
    args = build_parser().parse_args(argv)

    def say(text):
        # Each figure as soon as it is known: the whole run takes minutes.
        out.write(text)
        out.flush()

    cloud = cloud_mod.LocalCloud(os.environ[localcloud_cmd.STATE_VARIABLE])
    proxy = faultproxy.FaultProxy(cloud)
    if not cloud.layout().processes.alive(faultproxy.NAME):
        proxy.start()
    proxy.program(latency=args.latency)
    proxied = clients_mod.from_environ(
        proxy.environ(), workers=cleanup.calling_threads(args.workers))
    work = Workload(cloud.environ(), args.trunks, args.subports)
    work.lift_quotas(cloud.environ('admin'))
    floor = work.floor()
    say('workload: %d orphaned trunks, %d subports each, %.0f ms '
        'per call\n' % (args.trunks, args.subports,
                        args.latency * 1000))

    lib = measure_library(cloud, proxy, proxied, work, args.workers)
    say('library:    %6.1f s  %5d calls  floor %d  calls/floor '
        '%.2fx  (%d found, %d clean)\n' % (
            lib.seconds, lib.calls, floor, lib.calls / floor, lib.found,
            lib.clean))
    say('            calls: %s\n' % breakdown(lib.events))
    say('            connections: %d opened for %d calls\n'
        % (connections(lib.events), lib.calls))
    cores = CORES
    say('cloud CPU:  %6.1f s  used meanwhile by the cloud; on %d cores no '
        'client can beat %.1f s: library / that %.2fx\n' % (
            lib.cpu, cores, lib.cpu / cores, lib.seconds / lib.cpu_floor))
    say('            %s\n' % lib.cores())

    seq = measure_baseline(sequential, cloud, proxy, proxied, work,
                           args.workers)
    say('sequential: %6.1f s  %5d calls  speed-up of the library '
        '%.1fx\n' % (seq.seconds, seq.calls, seq.seconds / lib.seconds))

    most = measure_baseline(unbounded, cloud, proxy, proxied, work,
                            args.workers)
    say('unbounded:  %6.1f s  the same writes, no reads, each phase '
        'at once; library / that %.2fx\n'
        % (most.seconds, lib.seconds / most.seconds))
    say('            its cloud CPU %.1f s: unbounded / its own CPU floor '
        '%.2fx\n' % (most.cpu, most.seconds / (most.cpu / CORES)))

    limit, _ = timed(cloud_limit, proxied, lib.calls)
    proxy.events()
    say('cloud limit: %5.1f s  for %d deletes at once; library / '
        'limit %.2fx\n' % (limit, lib.calls, lib.seconds / limit))

    remote = args.remote_trunks
    if remote:
        proxy.program(latency=args.remote_latency)
        say('latency-bound: %d trunks, %.0f ms per call\n'
            % (remote, args.remote_latency * 1000))
        far = measure_library(cloud, proxy, proxied, work, args.workers,
                              count=remote)
        seq = measure_baseline(sequential, cloud, proxy, proxied, work,
                               args.workers, count=remote)
        say('  library:    %6.1f s  %5d calls  calls/floor %.2fx  cloud '
            'CPU %.1f s: library / CPU floor %.2fx\n' % (
                far.seconds, far.calls, far.calls / work.floor(remote),
                far.cpu,
                far.seconds / far.cpu_floor))
        say('              %s\n' % far.cores())
        say('  sequential: %6.1f s  %5d calls  speed-up of the library '
            '%.1fx\n' % (seq.seconds, seq.calls, seq.seconds / far.seconds))
        most = measure_baseline(unbounded, cloud, proxy, proxied, work,
                                args.workers, count=remote)
        say('  unbounded:  %6.1f s  the same writes, no reads, each phase '
            'at once; library / that %.2fx, sequential / that %.1fx\n' % (
                most.seconds, far.seconds / most.seconds,
                seq.seconds / most.seconds))
        proxy.program(latency=args.latency)

    if args.growth:
        # The base size again right before and right after the big one:
        # the cloud's speed varies over a run (both ways), and the ratio
        # to their mean is the library's growth, not that drift.
        big = args.trunks * args.growth
        runs = []
        for count, label in ((args.trunks, 'again, before it'),
                             (big, ''), (args.trunks, 'again, after it')):
            runs.append(measure_library(cloud, proxy, proxied, work,
                                        args.workers, count=count))
            say('%-11s %d trunks%s: %s\n' % (
                '' if len(runs) > 1 else 'growth:', count,
                label and ' ' + label, runs[-1].figures(work.floor(count))))
        grown, base = runs[1], runs[::2]

        def mean(figure):
            return sum(getattr(b, figure) for b in base) / len(base)
        say('            for %dx the trunks, against the mean of the '
            '%d-trunk runs: wall %.2fx (%s against each), calls %.2fx, '
            'cloud CPU %.2fx; wall %.2fx against the first run\n' % (
                args.growth, args.trunks, grown.seconds / mean('seconds'),
                ' and '.join('%.2fx' % (grown.seconds / b.seconds)
                             for b in base),
                grown.calls / mean('calls'), grown.cpu / mean('cpu'),
                grown.seconds / lib.seconds))
    proxy.program()

    if not args.skip_tempest:
        start = time.monotonic()
        code = subprocess.call(
            [sys.executable, '-m', 'trunk_cleanup_localcloud.cli',
             '--state-dir', cloud.state_dir, 'tempest'],
            stdout=subprocess.DEVNULL)
        say('scenario suite: tempest run in %.1f s (exit code %d)\n'
            % (time.monotonic() - start, code))
    return 0


if __name__ == '__main__':
    sys.exit(main())
