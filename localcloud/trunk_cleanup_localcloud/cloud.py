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

"""One local cloud: ``up`` in stages, ``down``, its state, its ``watch``.

The services run from their own virtualenv (:mod:`.virtualenvs`); this
module runs in tempest's and talks to them over HTTP with tempest.lib's
own clients. What each service is lives in :mod:`.services`, who keystone
knows in :mod:`.identity`, and what users of the cloud get (tempest.conf,
``OS_*``) in :mod:`.consumers`.
"""

from concurrent import futures
import datetime
import io
import json
import os
import secrets
import sys
import time

from tempest.lib.services.compute import flavors_client
from tempest.lib.services.compute import services_client as \
    compute_services
from tempest.lib.services.image.v2 import images_client
from tempest.lib.services.network import extensions_client

from trunk_cleanup_localcloud import consumers
from trunk_cleanup_localcloud import identity
from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases
from trunk_cleanup_localcloud import services
from trunk_cleanup_localcloud import stages
from trunk_cleanup_localcloud import switch
from trunk_cleanup_localcloud import virtualenvs

STATE_FILE = 'cloud.json'
# The cleanup service's process name.
WATCH = 'watch'
# Seconds each process is given to stop on SIGTERM before SIGKILL, the
# database's too: every up empties the state folder (all but the tempest
# durations), so nothing a graceful shutdown saves is ever read again.
# (Neutron's agent and RPC server and nova-compute would take 10 s or more
# of it.)
DOWN_GRACE = 3


class LocalCloud:
    """One local cloud, all of it under ``state_dir``."""

    def __init__(self, state_dir, venv=None, out=sys.stdout):
        self.state_dir = os.path.abspath(state_dir)
        self.out = out
        self._state = None
        self._venv = venv

    @property
    def venv(self):
        """The services' virtualenv: the one the cloud was started from."""
        return (self._venv or self.state.get('venv') or
                virtualenvs.default_venv(self.release.requirements))

    @property
    def release(self):
        """The release the cloud runs (or, not started, would run)."""
        return releases.get(self.state.get('release'))

    # -- state ---------------------------------------------------------

    @property
    def state_file(self):
        return os.path.join(self.state_dir, STATE_FILE)

    @property
    def state(self):
        if self._state is None:
            try:
                with open(self.state_file) as f:
                    self._state = json.load(f)
            except FileNotFoundError:
                self._state = {}
        return self._state

    def save(self):
        with open(self.state_file, 'w') as f:
            json.dump(self.state, f, indent=2, sort_keys=True)

    def layout(self):
        return layout_mod.Layout(
            self.state_dir, self.venv,
            password=self.state.get('password', 'secret'),
            driver=self.state.get('driver', layout_mod.DEFAULT_DRIVER),
            neutron_workers=self.state.get('neutron_workers', 1),
            release=self.release)

    def services(self, layout):
        return ([services.MariaDB(layout), services.RabbitMQ(layout),
                 services.Keystone(layout), services.Placement(layout),
                 services.Glance(layout)] + switch.for_driver(layout) +
                [services.Neutron(layout), services.Nova(layout)])

    # -- up ------------------------------------------------------------

    def up(self, with_watch=False, driver=None, neutron_workers=1,
           release=None):
        """Start every service from nothing; returns the timings.

        :param with_watch: also start ``trunk-cleanup watch``, so the cloud
            removes the trunk of every server it deletes.
        :param driver: Neutron's: ``ovs`` (ML2/OVS and its agent), ``ovn``
            (ML2/OVN) or ``fake`` (ML2/OVS, nothing wired); default
            ``ovs``. See :class:`~trunk_cleanup_localcloud.services.
            Neutron`.
        :param neutron_workers: Neutron API processes (more than one runs
            under gunicorn, as devstack runs several under uWSGI).
        :param release: the OpenStack release's name (default:
            ``$TRUNK_CLEANUP_LOCALCLOUD_RELEASE``, else the newest); see
            :mod:`~trunk_cleanup_localcloud.releases`.
        """
        driver = driver or layout_mod.DEFAULT_DRIVER
        release = releases.get(release)
        started = time.monotonic()
        # What the requirements ask for now, not what a former up used.
        venv = self._venv or virtualenvs.default_venv(release.requirements)
        virtualenvs.ensure_venv(venv, log=self.out,
                                requirements=release.requirements)
        if self.running():
            raise process.CloudError(
                'local cloud', 'up', detail='already running under %s; '
                'run "down" first' % self.state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        services.clean_state(layout_mod.Layout(self.state_dir, venv))
        self._state = {'password': secrets.token_hex(12),
                       'state_dir': self.state_dir, 'venv': venv,
                       'driver': driver, 'release': release.name,
                       'neutron_workers': neutron_workers}
        layout = self.layout()
        self.state['ports'] = layout.ports
        self.save()
        try:
            timings = stages.run_stages(self.stages(layout, with_watch),
                                        self._report, self._abort)
        except BaseException:
            self.down(quiet=True)
            raise
        self.state['timings'] = timings
        self.state['up_seconds'] = time.monotonic() - started
        self.save()
        self.out.write('  %-10s up in %5.1fs\n' % (
            'all', self.state['up_seconds']))
        return timings

    def stages(self, layout, with_watch=False):
        """What ``up`` does: ``(name, step, log, after)``.

        ``after`` names the stages it waits for; the rest runs at once.
        """
        switches = tuple(s.name for s in switch.for_driver(layout))
        after = {
            'mysql': (), 'rabbitmq': (), 'ovs': (), 'ovn': ('ovs',),
            'databases': ('mysql',),
            'keys': (),
            'keystone': ('databases', 'keys'),
            'identity': ('keystone',),
            'placement': ('databases',),
            'glance': ('databases',),
            'neutron': ('databases', 'rabbitmq') + switches,
            # The API alone: the conductor, the scheduler and nova-compute
            # log in to placement as its user as they start, and
            # nova-compute plugs into the switch.
            'nova': ('databases', 'rabbitmq'),
            'compute': ('databases', 'rabbitmq', 'identity',
                        'placement') + switches,
            'resources': ('identity', 'glance', 'neutron', 'nova',
                          'compute'),
            WATCH: ('resources',),
        }
        steps = [(s.name, s.up, s.log) for s in self.services(layout)]
        keystone = services.Keystone(layout)
        nova = services.Nova(layout)
        steps += [
            ('keys', keystone.create_keys, keystone.log),
            ('compute', nova.up_compute,
             layout.processes.log('nova-compute')),
            ('databases', lambda: self._databases(layout),
             layout.processes.log('mysql')),
            ('identity', lambda: identity.register(layout),
             layout.processes.log('keystone')),
            ('resources', lambda: self._create_image_and_flavor(layout),
             layout.processes.log('nova'))]
        if with_watch:
            steps.append((WATCH, self.start_watch,
                          layout.processes.log(WATCH)))
        return [(name, step, log, after[name]) for name, step, log in steps]

    def _report(self, name, seconds, note):
        self.out.write('  %-10s up in %5.1fs%s\n' % (
            name, seconds, '  (%s)' % note if note else ''))
        self.out.flush()

    def _abort(self):
        # A stage failed: the ones still waiting see their processes
        # gone and fail at once rather than at their deadlines.
        self.down(quiet=True)

    def _databases(self, layout):
        """Every service's schema, migrated once per virtualenv.

        Later ups restore the dump made then: seconds instead of tens.
        """
        database = services.MariaDB(layout)
        cached, why_not = virtualenvs.schema_dump(layout.venv)
        note = ''
        if cached and os.path.exists(cached):
            try:
                database.restore(cached)
                return 'restored from ' + cached
            except process.CloudError as exc:
                # A dump cut short or from another MariaDB: made again.
                note = 'the dump failed (%s), ' % str(exc).splitlines()[0]
                database.drop_databases()
                os.unlink(cached)
        database.create_databases()
        services.in_parallel(*[s.migrate for s in self.services(layout)])
        if not cached:
            return note + 'migrated; not cached: ' + why_not
        try:
            database.dump(cached)
        except (OSError, process.CloudError) as exc:
            return note + 'migrated; not cached: %s' % (
                str(exc).splitlines()[0])
        return note + 'migrated, dumped to ' + cached

    def _create_image_and_flavor(self, layout):
        images = identity.client(images_client.ImagesClient, 'image',
                                 layout)
        image = images.create_image(
            name='localcloud-tiny', disk_format='raw',
            container_format='bare', visibility='public')
        # The fake virt driver never reads it; a few bytes make it active.
        images.store_image_file(image['id'], io.BytesIO(b'\0' * 1024))
        flavors = identity.client(flavors_client.FlavorsClient, 'compute',
                                  layout)
        flavor = flavors.create_flavor(name='localcloud.nano', ram=64,
                                       vcpus=1, disk=1, id='42')['flavor']
        exts = identity.client(extensions_client.ExtensionsClient,
                               'network', layout)
        aliases = sorted(e['alias'] for e in
                         exts.list_extensions()['extensions'])
        self.state.update(image_id=image['id'], flavor_id=flavor['id'],
                          network_extensions=aliases)
        self.save()

    def start_watch(self, *extra, environ=None, name=WATCH):
        """Run ``trunk-cleanup watch`` as the admin, on Nova's bus.

        From then on the cloud removes the trunk and subports of every
        server it deletes, as a cloud that promises
        ``expected_after_server_delete = removed`` does.

        :param extra: more arguments for ``watch``.
        :param environ: its ``OS_*`` variables (default: the admin's; ``{}``
            for none, when a config file holds its credentials).
        :param name: another name starts another instance, with a state
            folder and log of its own, on the same pool (active-active).
        """
        layout = self.layout()
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update(self.environ('admin') if environ is None else environ)
        command = [sys.executable, '-m',
                   'trunk_cleanup_tempest.cmd.trunk_cleanup', 'watch',
                   '--config-file', layout.etc('nova', 'nova.conf'),
                   '--state-dir', layout.path(name),
                   '--sweep-interval', '30', '--sweep-orphans',
                   '--sweep-older-than', '10m',
                   '--interval', '0.5'] + list(extra)
        log = layout.processes.log(name)
        # The log is appended to: only what this start writes counts.
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        layout.processes.start(name, command, env=env)

        def listening():
            with open(log) as f:
                f.seek(offset)
                return 'watching versioned_notifications' in f.read()
        process.wait_until(name, command, log, listening, 60,
                           processes=layout.processes, name=name)
        if name == WATCH:
            self.state['watch'] = True
            self.save()

    def stop_watch(self, timeout=20, name=WATCH):
        """Stop ``watch``; the cloud leaves trunks behind again.

        :param timeout: seconds it may take to finish what it is doing
            before it is killed (0 kills it at once).
        :param name: the instance, as :meth:`start_watch` named it.
        """
        stopped = self.layout().processes.stop(name, timeout=timeout)
        if name == WATCH:
            self.state['watch'] = False
            self.save()
        return stopped

    def restart_bus(self, timeout=180):
        """Restart RabbitMQ under every service, as an operator might.

        Then wait until nova-compute has reported in again over the new
        bus: a report that was in flight when it went down hangs until its
        RPC timeout, and meanwhile the scheduler counts the host out (it
        "has not been heard from in a while") and every boot fails.
        """
        layout = self.layout()
        services.RabbitMQ(layout).restart()
        restarted = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        nova = identity.client(compute_services.ServicesClient, 'compute',
                               layout)

        def reported():
            found = nova.list_services(binary='nova-compute')['services']
            return found and all(
                datetime.datetime.fromisoformat(s['updated_at']) > restarted
                for s in found)
        process.wait_until('nova-compute', ['restart bus'],
                           layout.processes.log('nova-compute'), reported,
                           timeout, interval=1)

    # -- down and status -----------------------------------------------

    def process_names(self):
        layout = self.layout()
        names = [n for s in self.services(layout) for n in s.process_names]
        names.append(WATCH)
        # Stop the other way round: the APIs before their database.
        return list(reversed(names))

    def running(self):
        procs = self.layout().processes
        return [n for n in procs.names() if procs.alive(n)]

    def down(self, quiet=False):
        """Stop exactly the processes ``up`` started, by PID file.

        The OpenStack services go first, all at once, each given
        ``DOWN_GRACE`` seconds to finish on SIGTERM (oslo.service's
        graceful shutdown waits longer, and nothing of this cloud
        outlives it); then what they stood on: the switch, the bus and
        the database.
        """
        if not os.path.isdir(self.state_dir):
            return []
        layout = self.layout()
        procs = layout.processes
        under = {n for s in self.services(layout)
                 if isinstance(s, (services.MariaDB, services.RabbitMQ)) or
                 s.name in switch.NAMES for n in s.process_names}
        order = self.process_names()
        names = [n for n in order + [n for n in procs.names()
                                     if n not in order]
                 if procs.pid(n) is not None]
        stopped = []
        for wave in ([n for n in names if n not in under],
                     [n for n in names if n in under]):
            if not wave:
                continue
            with futures.ThreadPoolExecutor(len(wave)) as pool:
                results = list(pool.map(
                    lambda n: procs.stop(n, timeout=DOWN_GRACE), wave))
            for name, was_running in zip(wave, results):
                if was_running:
                    stopped.append(name)
                    if not quiet:
                        self.out.write('  stopped %s\n' % name)
        for pid, command in process.strays(self.state_dir):
            # A child that left its process group (none should): say so.
            self.out.write('  stopping stray PID %d: %s\n' % (pid, command))
            process.kill(pid)
        return stopped

    def status(self):
        """(name, pid, alive) of every process, and the endpoints."""
        procs = self.layout().processes
        rows = [(n, procs.pid(n), procs.alive(n)) for n in procs.names()]
        return rows

    def endpoints(self):
        layout = self.layout()
        return [(name, layout.url(name, path)) for name, _, path in
                [('keystone', 'identity', '/v3')] + list(identity.CATALOG)]

    # -- clients' configuration ----------------------------------------

    def tempest_conf(self, path, expected_after_server_delete=None,
                     overrides=()):
        """Write a tempest.conf for this cloud (admin for dynamic creds).

        See :func:`~trunk_cleanup_localcloud.consumers.tempest_conf`.
        """
        return consumers.tempest_conf(self.layout(), self.state, path,
                                      expected_after_server_delete,
                                      overrides)

    def environ(self, user='demo'):
        """The ``OS_*`` variables of ``user`` (``demo`` or ``admin``)."""
        return consumers.environ(self.layout(), user)

    def openrc(self, user='demo'):
        """Shell variables for the operator command, as ``user``."""
        return consumers.openrc(self.layout(), user)
