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

"""Bring the local cloud up and down, and describe it to tempest.

The services run from their own virtualenv (their pins must not meet
tempest's); this module runs in tempest's and talks to them over HTTP with
tempest.lib's own clients.
"""

from concurrent import futures
import datetime
import glob
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

from tempest.lib import auth
from tempest.lib.services.compute import flavors_client
from tempest.lib.services.compute import services_client as \
    compute_services
from tempest.lib.services.identity.v3 import endpoints_client
from tempest.lib.services.identity.v3 import projects_client
from tempest.lib.services.identity.v3 import roles_client
from tempest.lib.services.identity.v3 import services_client
from tempest.lib.services.identity.v3 import users_client
from tempest.lib.services.image.v2 import images_client
from tempest.lib.services.network import extensions_client

from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases
from trunk_cleanup_localcloud import services
from trunk_cleanup_localcloud import switch
from trunk_cleanup_tempest import config as tc_config

# The newest release's pins.
REQUIREMENTS = releases.get(releases.NEWEST).requirements
STATE_FILE = 'cloud.json'
# The cleanup service's process name.
WATCH = 'watch'
# Every service's database right after its migrations, kept in the
# services' virtualenv and named after what is installed in it. Bump the
# version when what a Service.migrate() does changes.
SCHEMA_DUMP = 'localcloud-databases-1-%s.sql'
# Seconds each process is given to stop on SIGTERM before SIGKILL.
DOWN_GRACE = 10

CATALOG = (
    # (service name, type, endpoint path)
    ('nova', 'compute', '/v2.1'),
    ('neutron', 'network', ''),
    ('placement', 'placement', ''),
    ('glance', 'image', ''),
)


def default_venv(requirements=REQUIREMENTS, prefix='services',
                 folder=None):
    """One virtualenv per requirements file, reused across runs.

    :param folder: where the virtualenvs are (default: the user's cache).
    """
    with open(requirements, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    if folder is None:
        cache = os.environ.get('XDG_CACHE_HOME',
                               os.path.expanduser('~/.cache'))
        folder = os.path.join(cache, 'trunk-cleanup-tempest')
    return os.path.join(folder, '%s-%s' % (prefix, digest))


def schema_dump(venv):
    """Where the dump of the virtualenv's schemas goes, or (None, why).

    Named after every distribution installed, so a virtualenv whose
    packages changed (``--venv``, an upgrade) migrates again. An editable
    install can change with no new name: never cached.
    """
    found = glob.glob(os.path.join(venv, 'lib', 'python*', 'site-packages',
                                   '*.dist-info'))
    if not found:
        return None, 'no installed distribution found in %s' % venv
    for info in found:
        try:
            with open(os.path.join(info, 'direct_url.json')) as f:
                editable = json.load(f).get('dir_info', {}).get('editable')
        except (OSError, ValueError):
            continue
        if editable:
            return None, '%s is installed editable' % (
                os.path.basename(info)[:-len('.dist-info')])
    names = '\n'.join(sorted(os.path.basename(i) for i in found))
    digest = hashlib.sha256(names.encode()).hexdigest()[:12]
    return os.path.join(venv, SCHEMA_DUMP % digest), None


def _uv():
    """uv's binary (the ``uv`` wheel, or one on the PATH), or None."""
    try:
        import uv
        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which('uv')


def ensure_venv(venv, log=sys.stderr, requirements=REQUIREMENTS):
    """Create a virtualenv from pinned requirements (the services').

    With uv, which installs the same pins several times faster than pip;
    with the venv module and pip where uv is missing. Either way the
    virtualenv has pip and setuptools, as ``python -m venv`` gives them.
    A virtualenv that finished installing (marked by a stamp file) is
    reused as it is.
    """
    stamp = os.path.join(venv, '.installed')
    if os.path.exists(stamp):
        return False
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    log_file = venv.rstrip('/') + '-install.log'
    uv = _uv()
    env = None
    if uv:
        # uv refuses a folder that holds a virtualenv: an install cut short
        # left one.
        shutil.rmtree(venv, ignore_errors=True)
        # uv reads no pip configuration: the index pip was given, uv gets.
        env = dict(os.environ)
        for pip, uv_name in (('PIP_INDEX_URL', 'UV_INDEX_URL'),
                             ('PIP_EXTRA_INDEX_URL', 'UV_EXTRA_INDEX_URL')):
            if pip in env:
                env.setdefault(uv_name, env[pip])
        commands = [[uv, 'venv', '--quiet', '--seed', '--python',
                     sys.executable, venv],
                    [uv, 'pip', 'install', '--quiet', '--python',
                     os.path.join(venv, 'bin', 'python'), '-r',
                     requirements]]
    else:
        commands = [[sys.executable, '-m', 'venv', '--clear', venv],
                    [os.path.join(venv, 'bin', 'pip'), 'install', '--quiet',
                     '--disable-pip-version-check', '-r', requirements]]
    log.write('installing %s into %s with %s (log: %s)\n'
              % (os.path.basename(requirements), venv,
                 'uv' if uv else 'pip', log_file))
    started = time.monotonic()
    for command in commands:
        process.run('virtualenv', command, log_file, env=env)
    open(stamp, 'w').close()
    log.write('  virtualenv made in %5.1fs\n' % (time.monotonic() - started))
    return True


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
                default_venv(self.release.requirements))

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
        return services.Layout(
            self.state_dir, self.venv,
            password=self.state.get('password', 'secret'),
            driver=self.state.get('driver', services.DEFAULT_DRIVER),
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
        driver = driver or services.DEFAULT_DRIVER
        release = releases.get(release)
        started = time.monotonic()
        # What the requirements ask for now, not what a former up used.
        venv = self._venv or default_venv(release.requirements)
        ensure_venv(venv, log=self.out, requirements=release.requirements)
        if self.running():
            raise process.CloudError(
                'local cloud', 'up', detail='already running under %s; '
                'run "down" first' % self.state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        services.clean_state(services.Layout(self.state_dir, venv))
        self._state = {'password': secrets.token_hex(12),
                       'state_dir': self.state_dir, 'venv': venv,
                       'driver': driver, 'release': release.name,
                       'neutron_workers': neutron_workers}
        layout = self.layout()
        self.state['ports'] = layout.ports
        self.save()
        try:
            timings = run_stages(self.stages(layout, with_watch),
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
            ('identity', lambda: self._register_identity(layout),
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
        cached, why_not = schema_dump(layout.venv)
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

    def admin_provider(self, layout, user='admin', project='admin'):
        creds = auth.KeystoneV3Credentials(
            username=user, password=layout.password, project_name=project,
            user_domain_name='Default', project_domain_name='Default')
        return auth.KeystoneV3AuthProvider(creds, layout.auth_url)

    def _client(self, cls, service, layout):
        return cls(self.admin_provider(layout), service, services.REGION,
                   endpoint_type='publicURL')

    def _register_identity(self, layout):
        """Projects, users, roles and the catalog, as devstack makes them."""
        roles = self._client(roles_client.RolesClient, 'identity', layout)
        projects = self._client(projects_client.ProjectsClient, 'identity',
                                layout)
        users = self._client(users_client.UsersClient, 'identity', layout)
        role_ids = {r['name']: r['id'] for r in roles.list_roles()['roles']}
        if 'service' not in role_ids:
            role_ids['service'] = roles.create_role(
                name='service')['role']['id']
        project_ids = {}
        for name in ('service', 'demo'):
            project_ids[name] = projects.create_project(
                name=name, domain_id='default')['project']['id']

        def user(name, project, role_names):
            uid = users.create_user(
                name=name, password=layout.password, domain_id='default',
                default_project_id=project_ids[project])['user']['id']
            for role in role_names:
                roles.create_user_role_on_project(project_ids[project], uid,
                                                  role_ids[role])
        catalog = self._client(services_client.ServicesClient, 'identity',
                               layout)
        endpoints = self._client(endpoints_client.EndPointsClient,
                                 'identity', layout)

        def service(name, kind, path):
            sid = catalog.create_service(name=name,
                                         type=kind)['service']['id']
            for interface in ('public', 'internal', 'admin'):
                endpoints.create_endpoint(
                    service_id=sid, interface=interface,
                    url=layout.url(name, path), region=services.REGION)
        # Independent of each other: made at once.
        services.in_parallel(
            *[lambda name=name: user(name, 'service', ('admin', 'service'))
              for name in services.SERVICE_USERS],
            lambda: user('demo', 'demo', ('member',)),
            *[lambda entry=entry: service(*entry) for entry in CATALOG])

    def _create_image_and_flavor(self, layout):
        images = self._client(images_client.ImagesClient, 'image', layout)
        image = images.create_image(
            name='localcloud-tiny', disk_format='raw',
            container_format='bare', visibility='public')
        # The fake virt driver never reads it; a few bytes make it active.
        images.store_image_file(image['id'], io.BytesIO(b'\0' * 1024))
        flavors = self._client(flavors_client.FlavorsClient, 'compute',
                               layout)
        flavor = flavors.create_flavor(name='localcloud.nano', ram=64,
                                       vcpus=1, disk=1, id='42')['flavor']
        exts = self._client(extensions_client.ExtensionsClient, 'network',
                            layout)
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
        nova = self._client(compute_services.ServicesClient, 'compute',
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
                [('keystone', 'identity', '/v3')] + list(CATALOG)]

    # -- clients' configuration ----------------------------------------

    def tempest_conf(self, path, expected_after_server_delete=None,
                     overrides=()):
        """Write a tempest.conf for this cloud (admin for dynamic creds).

        :param expected_after_server_delete: what the tests expect; by
            default ``removed`` when ``watch`` runs, else ``left``.
        :param overrides: ``(section, key, value)`` to set on top.
        """
        if expected_after_server_delete is None:
            expected_after_server_delete = (
                tc_config.EXPECT_REMOVED if self.state.get('watch')
                else tc_config.EXPECT_LEFT)
        layout = self.layout()
        st = self.state
        values = {
            'DEFAULT': {'log_file': 'tempest.log'},
            'auth': {'admin_username': 'admin',
                     'admin_password': layout.password,
                     'admin_project_name': 'admin',
                     'admin_domain_name': 'Default',
                     'use_dynamic_credentials': True,
                     'create_isolated_networks': False},
            'identity': {'uri_v3': layout.auth_url, 'auth_version': 'v3',
                         'region': services.REGION},
            'identity-feature-enabled': {'api_v2': False},
            'compute': {'image_ref': st['image_id'],
                        'image_ref_alt': st['image_id'],
                        'flavor_ref': st['flavor_id'],
                        'flavor_ref_alt': st['flavor_id'],
                        'build_timeout': 60},
            'compute-feature-enabled': {'console_output': False,
                                        'attach_encrypted_volume': False},
            'network': {'project_networks_reachable': False,
                        'build_timeout': 60},
            'network-feature-enabled': {
                'api_extensions': ','.join(st['network_extensions'])},
            'image': {'build_timeout': 60},
            'validation': {'run_validation': False},
            'service_available': {'nova': True, 'neutron': True,
                                  'glance': True, 'cinder': False,
                                  'swift': False, 'horizon': False},
            tc_config.trunk_cleanup_group.name: {
                'expected_after_server_delete': expected_after_server_delete,
                'trunk_wired': layout.driver != 'fake',
                'cleanup_timeout': 60, 'cleanup_interval': 0.5},
        }
        for section, key, value in overrides:
            values.setdefault(section, {})[key] = value
        services.write_ini(path, values)
        return path

    def environ(self, user='demo'):
        """The ``OS_*`` variables of ``user`` (``demo`` or ``admin``)."""
        layout = self.layout()
        project = 'admin' if user == 'admin' else 'demo'
        return {'OS_AUTH_URL': layout.auth_url, 'OS_USERNAME': user,
                'OS_PASSWORD': layout.password, 'OS_PROJECT_NAME': project,
                'OS_USER_DOMAIN_NAME': 'Default',
                'OS_PROJECT_DOMAIN_NAME': 'Default',
                'OS_REGION_NAME': services.REGION}

    def openrc(self, user='demo'):
        """Shell variables for the operator command, as ``user``."""
        return ''.join('export %s=%s\n' % kv
                       for kv in self.environ(user).items())


def run_tempest(cloud, workspace, regex, concurrency, extra=(),
                expected=None, overrides=(), out=sys.stdout):
    """``tempest init`` a workspace for the cloud and ``tempest run`` in it.

    :returns: tempest's exit code
    """
    if not os.path.exists(os.path.join(workspace, '.stestr.conf')):
        # Named after its path, so a workspace that "up" emptied is
        # registered again rather than refused as a duplicate.
        workspace = os.path.abspath(workspace)
        name = 'trunk-cleanup-%s' % hashlib.sha256(
            workspace.encode()).hexdigest()[:12]
        subprocess.run([_tempest(), 'workspace', 'remove', '--name', name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([_tempest(), 'init', '--name', name, workspace],
                       check=True, stdout=subprocess.DEVNULL)
    cloud.tempest_conf(os.path.join(workspace, 'etc', 'tempest.conf'),
                       expected_after_server_delete=expected,
                       overrides=overrides)
    command = [_tempest(), 'run', '--regex', regex, '--concurrency',
               str(concurrency)] + list(extra)
    out.write('$ %s\n' % ' '.join(command))
    out.flush()
    return subprocess.call(command, cwd=workspace)


def _tempest():
    return os.path.join(os.path.dirname(sys.executable), 'tempest')
