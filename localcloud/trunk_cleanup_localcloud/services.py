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

"""Each service of the local cloud: its configuration, set-up and start.

The services are the real ones from PyPI (keystone, placement, glance,
nova with its fake virt driver, neutron with ML2 and the trunk plugin) on
MariaDB and RabbitMQ from Debian, all on 127.0.0.1 and all under one state
folder. Each service migrates its database (:meth:`Service.migrate`), which
the cloud does once per virtualenv and then restores from a dump, and
starts (:meth:`Service.up`); ``cloud.py`` says what waits for what and
starts the rest at once.
"""

from concurrent import futures
import configparser
import glob
import json
import os
import shutil
import threading

from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process

DB_NAMES = ('keystone', 'placement', 'glance', 'nova_api', 'nova',
            'nova_cell0', 'neutron')
SERVICE_USERS = ('placement', 'glance', 'nova', 'neutron')
RABBIT_BIN = '/usr/lib/rabbitmq/bin'
# watch's queue (its pool): bounded (the oldest dropped first), and gone
# after a week unused.
WATCH_QUEUE_POLICY = ('trunk-cleanup', {'max-length': 100000,
                                        'overflow': 'drop-head',
                                        'expires': 7 * 24 * 3600 * 1000})
# Nova's cell mappings as templates that Nova fills from its own
# [database] connection and transport_url: the mappings hold no password,
# so a cached dump of the databases serves every cloud.
CELL_DATABASE = '{scheme}://{username}:{password}@{hostname}:{port}/%s?{query}'
CELL_TRANSPORT = '{scheme}://{username}:{password}@{hostname}:{port}/'
# keystone's bcrypt rounds (default 12, a quarter second a hash here): every
# user made and every token issued pays them, tempest's dynamic
# credentials too.
PASSWORD_HASH_ROUNDS = 4
# localcloud/compute.py: the fake virt driver, plugging VIFs into the switch.
COMPUTE_DRIVER = 'localcloud_switch.SwitchPluggingDriver'

INTEGRATION_BRIDGE = 'br-int'
# Open vSwitch's userspace datapath: no kernel module needed.
DATAPATH_TYPE = 'netdev'
# neutron's privsep contexts, each started by its own helper.
PRIVSEP_SECTIONS = ('privsep', 'privsep_link', 'privsep_namespace',
                    'privsep_ovs_vsctl', 'privsep_conntrack',
                    'privsep_dhcp_release')


def in_parallel(*calls):
    """Run the calls at once; raise the first one's error, if any."""
    with futures.ThreadPoolExecutor(len(calls)) as pool:
        for result in [pool.submit(call) for call in calls]:
            result.result()


def write_ini(path, sections):
    """Write ``{section: {key: value}}`` as an ini file (no interpolation)."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    for section, values in sections.items():
        if section != 'DEFAULT':
            parser.add_section(section)
        for key, value in values.items():
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            parser.set(section, key, str(value))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Whole or not at all: stages that run at once write the same files.
    partial = '%s.%d' % (path, threading.get_ident())
    with open(partial, 'w') as f:
        parser.write(f)
    os.replace(partial, path)


class Service:
    """One piece of the cloud: configure, migrate once, start, wait."""

    name = None

    def __init__(self, layout):
        self.layout = layout
        self.procs = layout.processes

    @property
    def log(self):
        return self.procs.log(self.name)

    def run(self, *command, env=None, stdin=None):
        return process.run(self.name, list(command), self.log, env=env,
                           owner=self.layout.state, stdin=stdin)

    def start_process(self, name, command, env=None):
        self.procs.start(name, command, env=env)
        return command

    def wait_http(self, name, url, command, timeout=120):
        self.wait_for(name, command, lambda: process.http_ok(url), timeout)

    def wait_for(self, name, command, predicate, timeout=60):
        """Poll ``predicate`` while process ``name`` lives."""
        process.wait_until(self.name, command, self.procs.log(name),
                           predicate, timeout, processes=self.procs,
                           name=name)

    def configure(self):
        """Write the configuration files (both steps below need them)."""

    def migrate(self):
        """Set up the service's database schema; it needs only MariaDB."""

    def up(self):
        raise NotImplementedError

    def copy_from_venv(self, filename):
        """A paste file the wheel ships under the virtualenv's etc/."""
        etc = self.layout.etc(self.name)
        os.makedirs(etc, exist_ok=True)
        partial = os.path.join(etc, '%s.%d' % (filename,
                                               threading.get_ident()))
        shutil.copy(os.path.join(self.layout.venv, 'etc', self.name,
                                 filename), partial)
        os.replace(partial, os.path.join(etc, filename))
        return etc

    @property
    def process_names(self):
        return [self.name]


class MariaDB(Service):
    name = 'mysql'

    def up(self):
        lay = self.layout
        data = lay.path('mysql', 'data')
        os.makedirs(data, exist_ok=True)
        self.run('mariadb-install-db', '--no-defaults', '--datadir=' + data,
                 '--auth-root-authentication-method=normal',
                 '--skip-test-db', '--user=root')
        sock = lay.path('mysql', 'mysqld.sock')
        cmd = self.start_process(self.name, [
            'mariadbd', '--no-defaults', '--datadir=' + data,
            '--socket=' + sock, '--port=%d' % lay.ports['mysql'],
            '--bind-address=' + layout_mod.HOST, '--user=root',
            '--skip-name-resolve',
            '--pid-file=' + lay.path('mysql', 'mysqld.pid'),
            '--max-connections=1000', '--innodb-buffer-pool-size=256M',
            '--innodb-flush-log-at-trx-commit=2', '--sync-binlog=0',
            '--character-set-server=utf8mb4', '--log-error=' + self.log])
        process.wait_until(self.name, cmd, self.log,
                           lambda: os.path.exists(sock) and process.port_open(
                               layout_mod.HOST, lay.ports['mysql']), 60,
                           processes=self.procs, name=self.name)
        self.query("CREATE USER 'openstack'@'%s' IDENTIFIED BY '%s'; "
                   "GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'%s'"
                   % (layout_mod.HOST, lay.password, layout_mod.HOST))

    def client(self, name='mariadb'):
        return [name, '--no-defaults',
                '--socket=' + self.layout.path('mysql', 'mysqld.sock'),
                '-uroot']

    def query(self, sql):
        """What ``sql`` prints (``--batch``: tab-separated, no borders)."""
        return self.run(*self.client(), '--batch', '--skip-column-names',
                        '-e', sql)

    def create_databases(self):
        self.query('; '.join('CREATE DATABASE %s CHARACTER SET utf8' % db
                             for db in DB_NAMES))

    def dump(self, path):
        """Every service's database, as ``restore`` takes it."""
        partial = '%s.%d' % (path, os.getpid())
        try:
            self.run(*self.client('mariadb-dump'), '--databases',
                     '--single-transaction', '--skip-comments',
                     '--routines', '--events', '--hex-blob',
                     '--result-file=' + partial, *DB_NAMES)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def drop_databases(self):
        self.query('; '.join('DROP DATABASE IF EXISTS %s' % db
                             for db in DB_NAMES))

    def restore(self, path):
        with open(path, 'rb') as f:
            self.run(*self.client(), stdin=f.read())


class RabbitMQ(Service):
    """A private RabbitMQ node, with its own epmd so down stops it too."""

    name = 'rabbitmq'

    def env(self):
        lay = self.layout
        base = lay.path('rabbitmq')
        env = dict(os.environ,
                   HOME=base,
                   RABBITMQ_NODENAME='rabbit@localhost',
                   RABBITMQ_NODE_IP_ADDRESS=layout_mod.HOST,
                   RABBITMQ_NODE_PORT=str(lay.ports['amqp']),
                   RABBITMQ_DIST_PORT=str(lay.ports['rabbit_dist']),
                   RABBITMQ_MNESIA_BASE=os.path.join(base, 'mnesia'),
                   RABBITMQ_LOG_BASE=os.path.join(base, 'log'),
                   RABBITMQ_PID_FILE=os.path.join(base, 'rabbit.pid'),
                   RABBITMQ_CONFIG_FILE=os.path.join(base, 'rabbitmq'),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(
                       base, 'enabled_plugins'),
                   RABBITMQ_LOGS='-',
                   ERL_EPMD_ADDRESS=layout_mod.HOST,
                   ERL_EPMD_PORT=str(lay.ports['epmd']))
        return env

    @property
    def process_names(self):
        return ['rabbitmq', 'epmd']

    def up(self):
        lay = self.layout
        base = lay.path('rabbitmq')
        os.makedirs(base, exist_ok=True)
        with open(os.path.join(base, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        with open(os.path.join(base, 'rabbitmq.conf'), 'w') as f:
            f.write('loopback_users = none\n')
        env = self.env()
        self.start_process('epmd', ['epmd', '-port', str(lay.ports['epmd']),
                                    '-address', layout_mod.HOST], env=env)
        self.start_node(env)

    def start_node(self, env):
        cmd = self.start_process(
            self.name, [os.path.join(RABBIT_BIN, 'rabbitmq-server')],
            env=env)
        ctl = [os.path.join(RABBIT_BIN, 'rabbitmqctl'), '-n',
               'rabbit@localhost']
        process.wait_until(
            self.name, cmd, self.log,
            lambda: process.port_open(layout_mod.HOST,
                                      self.layout.ports['amqp']),
            90, processes=self.procs, name=self.name)
        self.run(*ctl, 'await_startup', env=env)
        # The queue policy doc/source/watch.rst gives for watch's pool.
        self.run(*ctl, 'set_policy', '--apply-to', 'queues',
                 WATCH_QUEUE_POLICY[0], '^%s$' % WATCH_QUEUE_POLICY[0],
                 json.dumps(WATCH_QUEUE_POLICY[1]), env=env)

    def ctl(self, *args):
        """Rows of ``rabbitmqctl -q ARGS --no-table-headers``, split."""
        out = self.run(os.path.join(RABBIT_BIN, 'rabbitmqctl'), '-n',
                       'rabbit@localhost', '-q', *args,
                       '--no-table-headers', env=self.env())
        return [line.split('\t') for line in out.splitlines()
                if line.strip()]

    def restart(self):
        """Stop the node and start it on the same data: a bus restart."""
        self.procs.stop(self.name)
        self.start_node(self.env())


class Keystone(Service):
    name = 'keystone'

    @property
    def manage(self):
        return [self.layout.bin('keystone-manage'), '--config-file',
                self.layout.etc('keystone', 'keystone.conf')]

    def configure(self):
        lay = self.layout
        keys = lay.etc('keystone', 'fernet-keys')
        write_ini(lay.etc('keystone', 'keystone.conf'), {
            'DEFAULT': {'use_stderr': True},
            'database': {'connection': lay.db('keystone')},
            'identity': {'password_hash_rounds': PASSWORD_HASH_ROUNDS},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': keys},
            'fernet_receipts': {'key_repository': keys},
            'credential': {'key_repository': lay.etc('keystone',
                                                     'credential-keys')},
        })

    def migrate(self):
        self.configure()
        self.run(*self.manage, 'db_sync')

    def create_keys(self):
        """Its fernet and credential keys: they need no database."""
        self.configure()
        in_parallel(*[
            lambda what=what: self.run(*self.manage, what, '--keystone-user',
                                       'root', '--keystone-group', 'root')
            for what in ('fernet_setup', 'credential_setup')])

    def up(self):
        """Bootstrap and serve.

        After :meth:`create_keys` (bootstrap checks them) and the database.
        """
        lay = self.layout
        self.configure()
        urls = []
        for kind in ('admin', 'internal', 'public'):
            urls += ['--bootstrap-%s-url' % kind, lay.auth_url]
        self.run(*self.manage, 'bootstrap', '--bootstrap-password',
                 lay.password, '--bootstrap-region-id', layout_mod.REGION,
                 *urls)
        env = dict(os.environ, OS_KEYSTONE_CONFIG_DIR=lay.etc('keystone'))
        cmd = self.start_process(self.name, lay.api_command(
            'keystone.wsgi.api', 'keystone'), env=env)
        self.wait_http(self.name, lay.auth_url, cmd)


class Placement(Service):
    name = 'placement'

    def configure(self):
        lay = self.layout
        write_ini(lay.etc('placement', 'placement.conf'), {
            'DEFAULT': {'use_stderr': True},
            'placement_database': {'connection': lay.db('placement')},
            'api': {'auth_strategy': 'keystone'},
            'keystone_authtoken': lay.authtoken('placement'),
        })

    def migrate(self):
        self.configure()
        self.run(self.layout.bin('placement-manage'), '--config-file',
                 self.layout.etc('placement', 'placement.conf'), 'db', 'sync')

    def up(self):
        lay = self.layout
        self.configure()
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=lay.etc('placement'))
        cmd = self.start_process(self.name, lay.api_command(
            'placement.wsgi.api', 'placement'), env=env)
        self.wait_http(self.name, lay.url('placement'), cmd)


class Glance(Service):
    name = 'glance'

    def configure(self):
        lay = self.layout
        etc = self.copy_from_venv('glance-api-paste.ini')
        store = lay.path('glance')
        write_ini(os.path.join(etc, 'glance-api.conf'), {
            'DEFAULT': {'use_stderr': True, 'enabled_backends': 'fs:file'},
            'database': {'connection': lay.db('glance')},
            'glance_store': {'default_backend': 'fs'},
            'fs': {'filesystem_store_datadir': os.path.join(store,
                                                            'images')},
            'os_glance_staging_store': {
                'filesystem_store_datadir': os.path.join(store, 'staging')},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': os.path.join(store, 'tasks')},
            'keystone_authtoken': lay.authtoken('glance'),
            'paste_deploy': {
                'flavor': 'keystone',
                'config_file': os.path.join(etc, 'glance-api-paste.ini')},
            'oslo_concurrency': {'lock_path': os.path.join(store, 'lock')},
        })
        return etc

    def migrate(self):
        etc = self.configure()
        self.run(self.layout.bin('glance-manage'), '--config-file',
                 os.path.join(etc, 'glance-api.conf'), 'db_sync')

    def up(self):
        lay = self.layout
        etc = self.configure()
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=etc)
        cmd = self.start_process(self.name, lay.api_command(
            'glance.wsgi.api', 'glance'), env=env)
        self.wait_http(self.name, lay.url('glance', '/versions'), cmd)


class Neutron(Service):
    """Neutron API and RPC server, ML2 with the trunk plugin.

    The mechanism driver follows the layout's driver: ``ovs`` runs the real
    neutron-openvswitch-agent on the private Open vSwitch, so ports bind
    through a live agent and trunks are wired (ACTIVE); ``ovn`` runs
    ML2/OVN on the private OVN databases; ``fake`` runs ML2/OVS with a
    process that only reports an agent's state over the bus (agent.py):
    ports bind, but nothing is wired and trunks stay DOWN.
    """

    name = 'neutron'

    @property
    def process_names(self):
        return ['neutron', 'neutron-rpc'] + {
            'ovs': ['neutron-ovs-agent'], 'ovn': [],
            'fake': ['neutron-agent']}[self.layout.driver]

    SERVER_CONFIG = ('neutron.conf', 'ml2_conf.ini')
    AGENT_CONFIG = 'openvswitch_agent.ini'

    def config_args(self, agent=False):
        """The server's ``--config-file`` arguments, or the OVS agent's."""
        etc = self.layout.etc('neutron')
        args = []
        for name in self.SERVER_CONFIG + ((self.AGENT_CONFIG,) if agent
                                          else ()):
            args += ['--config-file', os.path.join(etc, name)]
        return args

    def write_config(self, etc):
        lay = self.layout
        ovn = lay.driver == 'ovn'
        release_options = {}
        if lay.release.neutron_api_workers_option:
            release_options['api_workers'] = lay.neutron_workers
        write_ini(os.path.join(etc, 'neutron.conf'), {
            'DEFAULT': dict(release_options, **{
                'use_stderr': True,
                'core_plugin': 'ml2',
                'service_plugins': 'ovn-router,trunk' if ovn else
                                   'router,trunk',
                'auth_strategy': 'keystone',
                'transport_url': lay.transport_url,
                'api_paste_config': os.path.join(etc, 'api-paste.ini'),
                'state_path': lay.path('neutron'),
                'host': lay.compute_host,
                'allow_overlapping_ips': True,
                'notify_nova_on_port_status_changes': True,
                'notify_nova_on_port_data_changes': True,
                'rpc_workers': 1,
                'rpc_state_report_workers': 1,
            }),
            'database': {'connection': lay.db('neutron')},
            'keystone_authtoken': lay.authtoken('neutron'),
            'nova': lay.service_auth('nova'),
            'oslo_concurrency': {'lock_path': lay.path('neutron', 'lock')},
            'agent': {'report_interval': 10},
        })
        if ovn:
            ml2 = {
                'ml2': {'type_drivers': 'flat,vlan,geneve',
                        'tenant_network_types': 'geneve',
                        'mechanism_drivers': 'ovn',
                        'extension_drivers': 'port_security'},
                'ml2_type_geneve': {'vni_ranges': '1:65536',
                                    'max_header_size': 38},
                'ovn': {'ovn_nb_connection': lay.ovn_db('nb'),
                        'ovn_sb_connection': lay.ovn_db('sb'),
                        'ovn_metadata_enabled': False},
            }
        else:
            ml2 = {
                'ml2': {'type_drivers': 'flat,vlan,vxlan',
                        'tenant_network_types': 'vxlan',
                        'mechanism_drivers': 'openvswitch',
                        'extension_drivers': 'port_security'},
                'ml2_type_vxlan': {'vni_ranges': '1:10000'},
            }
        ml2['securitygroup'] = {'firewall_driver': 'noop'}
        write_ini(os.path.join(etc, 'ml2_conf.ini'), ml2)
        if lay.driver == 'ovs':
            self.write_agent_config(etc)

    def write_agent_config(self, etc):
        """neutron-openvswitch-agent on the userspace datapath, as root.

        The agent runs as root already, so it needs no sudo: no root
        helper, and privsep daemons started directly.
        """
        lay = self.layout
        helper = ' '.join([lay.bin('privsep-helper')] +
                          self.config_args(agent=True))
        sections = {
            'ovs': {'integration_bridge': INTEGRATION_BRIDGE,
                    'tunnel_bridge': 'br-tun',
                    'local_ip': layout_mod.HOST,
                    'datapath_type': DATAPATH_TYPE,
                    'ovsdb_connection': lay.switch_db,
                    'of_listen_address': layout_mod.HOST,
                    'of_listen_port': lay.ports['openflow']},
            'agent': {'tunnel_types': 'vxlan', 'root_helper': ''},
            'securitygroup': {'firewall_driver': 'noop'},
        }
        for section in PRIVSEP_SECTIONS:
            sections[section] = {'helper_command': helper}
        write_ini(os.path.join(etc, self.AGENT_CONFIG), sections)

    def configure(self):
        etc = self.copy_from_venv('api-paste.ini')
        self.write_config(etc)
        return etc

    def migrate(self):
        self.configure()
        self.run(self.layout.bin('neutron-db-manage'), *self.config_args(),
                 'upgrade', 'heads')

    def up(self):
        lay = self.layout
        etc = self.configure()
        # Neutron learns its API worker count from uWSGI, mod_wsgi or this
        # variable; ML2/OVN's hash ring needs it.
        env = dict(os.environ, OS_NEUTRON_CONFIG_DIR=etc,
                   OS_NEUTRON_CONFIG_FILES='neutron.conf;ml2_conf.ini',
                   ASGI_WORKERS=str(lay.neutron_workers))
        cmd = self.start_process(self.name, lay.api_command(
            'neutron.wsgi.api', 'neutron', workers=lay.neutron_workers),
            env=env)
        self.start_process('neutron-rpc', [lay.bin('neutron-rpc-server')] +
                           self.config_args())
        if lay.driver == 'ovs':
            self.start_process(
                'neutron-ovs-agent',
                [lay.bin('neutron-openvswitch-agent')] +
                self.config_args(agent=True),
                env=lay.switch_env())
        elif lay.driver == 'fake':
            agent = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 'agent.py')
            self.start_process('neutron-agent', [lay.bin('python'), agent] +
                               self.config_args())
        self.wait_http(self.name, lay.url('neutron'), cmd)
        if lay.driver != 'ovn':
            # Ports bind only to a host whose agent has reported.
            agent = self.process_names[-1]
            database = MariaDB(lay)
            self.wait_for(agent, cmd, lambda: database.query(
                "SELECT id FROM neutron.agents WHERE host = '%s' AND "
                "agent_type = 'Open vSwitch agent'" % lay.compute_host
            ).strip())


class Nova(Service):
    name = 'nova'

    @property
    def process_names(self):
        return ['nova-conductor', 'nova-scheduler', 'nova-compute', 'nova']

    @property
    def manage(self):
        return [self.layout.bin('nova-manage'), '--config-file',
                self.layout.etc('nova', 'nova.conf')]

    def configure(self):
        lay = self.layout
        etc = self.copy_from_venv('api-paste.ini')
        write_ini(os.path.join(etc, 'nova.conf'), {
            'DEFAULT': {
                'use_stderr': True,
                'transport_url': lay.transport_url,
                'compute_driver': ('fake.FakeDriver' if lay.driver == 'fake'
                                   else COMPUTE_DRIVER),
                'host': lay.compute_host,
                'my_ip': layout_mod.HOST,
                'state_path': lay.path('nova'),
                'instances_path': lay.path('nova', 'instances'),
            },
            'api': {'auth_strategy': 'keystone'},
            'wsgi': {'api_paste_config': os.path.join(etc,
                                                      'api-paste.ini')},
            'api_database': {'connection': lay.db('nova_api')},
            'database': {'connection': lay.db('nova')},
            'keystone_authtoken': lay.authtoken('nova'),
            'service_user': dict(lay.service_auth('nova'),
                                 send_service_user_token=True),
            'placement': lay.service_auth('placement'),
            'neutron': lay.service_auth('neutron'),
            'glance': {'region_name': layout_mod.REGION},
            'cinder': {'os_region_name': layout_mod.REGION},
            'oslo_concurrency': {'lock_path': lay.path('nova', 'lock')},
            # One worker each for the scheduler and the conductor: each
            # tries its placement client before it forks its workers (one
            # a CPU by default), which inherit that client's open
            # connection. The master only supervises; two workers would
            # share the connection, and two boots at once could meet on
            # it: a reset, and "No valid host was found".
            'scheduler': {'discover_hosts_in_cells_interval': -1,
                          'workers': 1},
            'conductor': {'workers': 1},
            'vnc': {'enabled': False},
            'notifications': {'notification_format': 'versioned'},
            'oslo_messaging_notifications': {'driver': 'messagingv2'},
        })
        return etc

    def migrate(self):
        self.configure()
        manage = self.manage
        self.run(*manage, 'api_db', 'sync')
        self.run(*manage, 'cell_v2', 'map_cell0', '--database_connection',
                 CELL_DATABASE % 'nova_cell0')
        self.run(*manage, 'cell_v2', 'create_cell', '--name', 'cell1',
                 '--database_connection', CELL_DATABASE % '{path}',
                 '--transport-url', CELL_TRANSPORT, '--verbose')
        self.run(*manage, 'db', 'sync')

    def up(self):
        """The API; :meth:`up_compute` starts the rest, which needs more."""
        lay = self.layout
        etc = self.configure()
        env = dict(os.environ, OS_NOVA_CONFIG_DIR=etc,
                   OS_NOVA_CONFIG_FILES='api-paste.ini;nova.conf',
                   **dict(lay.release.nova_api_environ))
        cmd = self.start_process(self.name, lay.api_command(
            'nova.wsgi.osapi_compute', 'nova'), env=env)
        self.wait_http(self.name, lay.url('nova'), cmd)

    def up_compute(self):
        """The conductor, the scheduler and nova-compute, host mapped.

        Each reports to placement as the ``placement`` service user as it
        starts (an Unauthorized there ends it), so they start once
        placement and the users are there.
        """
        lay = self.layout
        conf = os.path.join(self.configure(), 'nova.conf')
        for name in ('nova-conductor', 'nova-scheduler'):
            self.start_process(name, [lay.bin(name), '--config-file', conf])
        if lay.driver == 'fake':
            self.start_process('nova-compute', [lay.bin('nova-compute'),
                                                '--config-file', conf])
        else:
            compute = os.path.join(os.path.dirname(os.path.abspath(
                __file__)), 'compute.py')
            self.start_process('nova-compute', [
                lay.bin('python'), compute, '--config-file', conf],
                env=lay.switch_env())
        self.discover_compute_host()

    def discover_compute_host(self):
        """Map the compute host into cell1 once it has registered.

        ``discover_hosts`` maps the compute nodes it finds in the cell's
        database; the node appears there once nova-compute has started.
        Reading that row is cheap, ``nova-manage`` seconds of imports: it
        runs once the row is there, and again only if it did not map it.
        """
        host = self.layout.compute_host
        database = MariaDB(self.layout)
        discover = self.manage + ['cell_v2', 'discover_hosts', '--verbose']

        def found(sql):
            return bool(database.query(sql % host).strip())

        def mapped():
            # The node's row comes first, then its provider's inventory
            # in placement: until both, the scheduler has no host.
            if not found("SELECT i.id FROM placement.inventories i JOIN "
                         "placement.resource_providers r ON "
                         "i.resource_provider_id = r.id WHERE "
                         "r.name = '%s'"):
                return False
            if not found("SELECT id FROM nova.compute_nodes WHERE "
                         "host = '%s' AND deleted = 0"):
                return False
            self.run(*discover)
            return found("SELECT id FROM nova_api.host_mappings WHERE "
                         "host = '%s'")

        process.wait_until(
            self.name, discover, self.procs.log('nova-compute'), mapped, 90,
            interval=0.5, processes=self.procs,
            name=('nova-conductor', 'nova-scheduler', 'nova-compute'))


def clean_state(layout):
    """Empty the state folder, so every ``up`` starts from nothing.

    nova-compute with the fake driver refuses a database it used before
    ("No local node identity found"), and MariaDB needs a new datadir.
    Only the last tempest run's durations are kept.
    """
    kept = os.path.join(layout.state, layout_mod.TEMPEST_TIMES)
    for entry in glob.glob(os.path.join(layout.state, '*')):
        if entry == kept:
            continue
        if os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry)
        else:
            os.unlink(entry)
