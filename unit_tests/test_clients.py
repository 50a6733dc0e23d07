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

"""The operator's clients: openstack.config and a keystoneauth1 session.

Nothing here reaches a network: Keystone's answer is a token made by
keystoneauth1's own fixture.
"""

import os
from unittest import mock

import fixtures
from keystoneauth1 import access
from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import fixture as ksa_fixture
from keystoneauth1.identity import access as access_plugin
from keystoneauth1.identity.v3 import application_credential
from oslo_config import cfg
from oslotest import base
from tempest.lib import exceptions as lib_exc
from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client

from trunk_cleanup_tempest import clients

ENV = {'OS_AUTH_URL': 'http://keystone.invalid:5000/v3',
       'OS_USERNAME': 'demo', 'OS_PASSWORD': 'pw', 'OS_PROJECT_NAME': 'demo',
       'OS_USER_DOMAIN_NAME': 'Default', 'OS_PROJECT_DOMAIN_NAME': 'Default'}


def signed_in(cloud, token):
    """Let ``cloud``'s session hold ``token``, as if Keystone gave it."""
    provider = cloud.ports_client.auth_provider
    provider.session.auth = access_plugin.AccessInfoPlugin(
        access.create(body=token))
    return provider


def token(project_id='p1', regions=('RegionOne',)):
    made = ksa_fixture.V3Token(project_id=project_id)
    for region in regions:
        made.add_service('network').add_standard_endpoints(
            public='http://%s-pub:9696/' % region,
            internal='http://%s-int:9696' % region, region=region)
        made.add_service('compute').add_standard_endpoints(
            public='http://%s-pub:8774/v2.1' % region, region=region)
    return made


class TestClients(base.BaseTestCase):

    def test_builds_tempest_lib_clients_without_calling_the_cloud(self):
        cloud = clients.from_environ(dict(ENV, OS_INTERFACE='internal'))
        self.assertIsInstance(cloud.trunks_client, trunks_client.TrunksClient)
        self.assertIsInstance(cloud.ports_client, ports_client.PortsClient)
        self.assertIsInstance(cloud.servers_client,
                              servers_client.ServersClient)
        self.assertEqual('internalURL', cloud.trunks_client.endpoint_type)
        self.assertEqual('compute', cloud.servers_client.service)

    def test_endpoints_of_the_region_and_interface(self):
        cloud = clients.from_environ(dict(ENV, OS_REGION_NAME='R2',
                                          OS_INTERFACE='internal'))
        provider = signed_in(cloud, token(regions=('RegionOne', 'R2')))
        self.assertEqual('http://R2-int:9696', provider.base_url(
            {'service': 'network'}))
        self.assertEqual('p1', provider.credentials.project_id)
        exc = self.assertRaises(clients.CloudError, provider.base_url,
                                {'service': 'compute'})
        self.assertEqual('no compute endpoint in region R2 for the internal '
                         'interface in the catalog (--os-region-name, '
                         '--os-interface)', str(exc))

    def test_no_region_named_and_many_in_the_catalog(self):
        cloud = clients.from_environ(ENV)
        provider = signed_in(cloud, token(regions=('RegionOne', 'R2')))
        exc = self.assertRaises(clients.CloudError, provider.base_url,
                                {'service': 'compute'})
        self.assertEqual('the catalog offers compute in regions R2, '
                         'RegionOne: name one with --os-region-name '
                         '(OS_REGION_NAME)', str(exc))
        cloud = clients.from_environ(ENV)
        provider = signed_in(cloud, token())
        self.assertEqual('http://RegionOne-pub:8774/v2.1',
                         provider.base_url({'service': 'compute'}))

    def test_a_wrong_region_is_named(self):
        cloud = clients.from_environ(dict(ENV, OS_REGION_NAME='Nowhere'))
        provider = signed_in(cloud, token())
        exc = self.assertRaises(clients.CloudError, provider.base_url,
                                {'service': 'network'})
        self.assertIn('no network endpoint in region Nowhere', str(exc))

    def test_endpoint_overrides_replace_the_catalog(self):
        cloud = clients.from_environ(dict(
            ENV, OS_NETWORK_ENDPOINT_OVERRIDE='http://proxy:1/',
            OS_COMPUTE_ENDPOINT_OVERRIDE='http://proxy:2/v2.1'))
        provider = cloud.ports_client.auth_provider
        self.assertEqual('http://proxy:1', provider.base_url(
            {'service': 'network'}))
        self.assertEqual('http://proxy:2/v2.1', provider.base_url(
            {'service': 'compute'}))

    def test_tokens_not_scoped_to_a_project_are_refused(self):
        """Neutron's and Nova's policies for them are project-scoped."""
        system = ksa_fixture.V3Token()
        system.set_system_scope()
        domain = ksa_fixture.V3Token()
        domain.set_domain_scope(id='default')
        for made, scope in ((system, 'system'), (domain, 'domain'),
                            (ksa_fixture.V3Token(), 'not')):
            cloud = clients.from_environ(dict(ENV, OS_SYSTEM_SCOPE='all'))
            provider = signed_in(cloud, made)
            self.assertIsNone(provider.credentials.project_id)
            exc = self.assertRaises(clients.CloudError, provider.get_token)
            self.assertIn('the token is %s-scoped' % scope, str(exc))

    def test_application_credentials(self):
        cloud = clients.from_environ({
            'OS_AUTH_TYPE': 'v3applicationcredential',
            'OS_AUTH_URL': 'http://keystone.invalid:5000/v3',
            'OS_APPLICATION_CREDENTIAL_ID': 'abc',
            'OS_APPLICATION_CREDENTIAL_SECRET': 'secret'})
        self.assertIsInstance(cloud.ports_client.auth_provider.session.auth,
                              application_credential.ApplicationCredential)

    def test_one_pool_sized_to_the_workers_for_every_client(self):
        cloud = clients.from_environ(ENV, workers=8, timeout=7)
        http = cloud.ports_client.http_obj
        self.assertIs(http, cloud.servers_client.http_obj)
        self.assertIs(http, cloud.trunks_client.http_obj)
        adapter = http.session.session.get_adapter('http://neutron:9696')
        # The workers and a shared read led while they write.
        self.assertEqual(9, adapter._pool_maxsize)
        self.assertEqual(7.0, http.timeout)
        configured = clients.from_environ(dict(ENV, OS_API_TIMEOUT='3'),
                                          timeout=7)
        self.assertEqual(3.0, configured.ports_client.http_obj.timeout)

    def test_transport_errors_are_the_library_s(self):
        http = clients.from_environ(ENV).ports_client.http_obj
        for raised, expected in (
                (ksa_exc.ConnectFailure('refused'), ConnectionError),
                (ksa_exc.ConnectTimeout('slow'), TimeoutError),
                (ksa_exc.RequestTimeout('slower'), TimeoutError)):
            with mock.patch.object(http.session, 'request',
                                   side_effect=raised):
                self.assertRaises(expected, http.request, 'http://x/',
                                  'GET')
        for raised, expected in (
                (ksa_exc.Unauthorized('no'), lib_exc.Unauthorized),
                (ksa_exc.ConnectFailure('down'), ConnectionError),
                (ksa_exc.BadRequest('odd'), clients.CloudError)):
            def fail(raised=raised):
                raise raised
            self.assertRaises(expected, clients._keystone, fail)

    def test_requests_carry_the_token_to_the_service(self):
        cloud = clients.from_environ(ENV)
        provider = signed_in(cloud, token())
        url, headers, body = provider.auth_request(
            'GET', 'v2.0/ports', {'Accept': 'application/json'}, None,
            {'service': 'network'})
        self.assertEqual('http://RegionOne-pub:9696/v2.0/ports', url)
        self.assertEqual(provider.session.get_token(),
                         headers['X-Auth-Token'])

    def write(self, folder, name, data):
        path = os.path.join(folder, name)
        with open(path, 'w') as f:
            f.write(data)
        return path

    def test_clouds_yaml_with_secure_yaml(self):
        folder = self.useFixture(fixtures.TempDir()).path
        path = self.write(folder, 'clouds.yaml', (
            'clouds:\n  lc:\n    region_name: R2\n    interface: internal'
            '\n    network_endpoint_override: http://proxy:1\n    auth:\n'
            '      auth_url: http://keystone.invalid:5000\n'
            '      username: demo\n      project_name: demo\n'
            '      user_domain_name: Default\n'
            '      project_domain_name: Default\n'))
        secure = self.write(folder, 'secure.yaml',
                            'clouds:\n  lc:\n    auth:\n      password: pw\n')
        for name, value in (('OS_CLIENT_CONFIG_FILE', path),
                            ('OS_CLIENT_SECURE_FILE', secure),
                            ('OS_CLOUD', 'lc')):
            self.useFixture(fixtures.EnvironmentVariable(name, value))
        cloud = clients.from_args()
        provider = cloud.ports_client.auth_provider
        self.assertEqual('pw', provider.cloud.config['auth']['password'])
        self.assertEqual('R2', cloud.trunks_client.region)
        self.assertEqual('internalURL', cloud.trunks_client.endpoint_type)
        self.assertEqual('http://proxy:1',
                         provider.base_url({'service': 'network'}))

    def test_unknown_cloud(self):
        exc = self.assertRaises(clients.MissingCredentials,
                                clients.from_environ, {'OS_CLOUD': 'nope'})
        self.assertIn('nope', str(exc))

    def test_missing_settings_are_named_never_the_password(self):
        exc = self.assertRaises(
            clients.MissingCredentials, clients.from_environ,
            {'OS_USERNAME': 'demo', 'OS_PASSWORD': 's3cr3t-pw'})
        self.assertIn('auth_url', str(exc))
        self.assertNotIn('s3cr3t-pw', str(exc))


class TestServiceCredentials(base.BaseTestCase):
    """``watch`` reads its own credentials from its config file."""

    def conf(self, **options):
        """A config file as a service's, with ``options`` in its section."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'watch.conf')
        with open(path, 'w') as f:
            f.write('[%s]\n' % clients.CONF_GROUP + ''.join(
                '%s = %s\n' % item for item in options.items()))
        conf = cfg.ConfigOpts()
        clients.register_conf_options(conf)
        conf(['--config-file', path])
        return conf

    def test_an_application_credential_from_the_file(self):
        conf = self.conf(auth_type='v3applicationcredential',
                         auth_url='http://keystone.invalid:5000/v3',
                         application_credential_id='abc',
                         application_credential_secret='secret',
                         region_name='R2', interface='internal')
        cloud = clients.from_conf(conf, workers=4, timeout=9)
        provider = cloud.ports_client.auth_provider
        self.assertIsInstance(provider.session.auth,
                              application_credential.ApplicationCredential)
        self.assertEqual('R2', cloud.ports_client.region)
        self.assertEqual('internalURL', cloud.ports_client.endpoint_type)
        self.assertEqual(9.0, cloud.ports_client.http_obj.timeout)

    def test_no_credentials_in_the_file(self):
        self.assertIsNone(clients.from_conf(self.conf()))

    def test_an_incomplete_section_is_named(self):
        exc = self.assertRaises(clients.MissingCredentials,
                                clients.from_conf,
                                self.conf(auth_type='password'))
        self.assertIn('[trunk_cleanup_watch]', str(exc))
        self.assertIn('auth', str(exc))
