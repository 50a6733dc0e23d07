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

"""Service clients for the operator command, built from ``OS_*`` variables.

tempest.lib already has every client the library needs (Neutron's
``TrunksClient`` and ``PortsClient``, Nova's ``ServersClient``); this only
authenticates them the way every OpenStack command line does. Inside
tempest a ``Manager`` such as ``os_primary`` plays the same part.
"""

import os

from tempest.lib import auth
from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client

REQUIRED = ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME')


class MissingCredentials(ValueError):
    """The environment does not say how to reach the cloud."""


class CloudClients:
    """The network and compute clients the cleanup library uses."""

    def __init__(self, auth_provider, region, endpoint_type='publicURL',
                 **kwargs):
        def client(cls, service):
            return cls(auth_provider, service, region,
                       endpoint_type=endpoint_type, **kwargs)
        self.trunks_client = client(trunks_client.TrunksClient, 'network')
        self.ports_client = client(ports_client.PortsClient, 'network')
        self.servers_client = client(servers_client.ServersClient,
                                     'compute')


def from_environ(environ=None):
    """Authenticate with Keystone v3 from ``OS_*`` variables.

    Nothing is sent until the first call of a client.

    :raises MissingCredentials: naming every variable that is missing, and
        never echoing the password.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise MissingCredentials('missing %s in the environment (source '
                                 'an openrc file first)' % ', '.join(missing))
    auth_url = env['OS_AUTH_URL'].rstrip('/')
    if not auth_url.endswith('/v3'):
        auth_url += '/v3'
    creds = auth.KeystoneV3Credentials(
        username=env['OS_USERNAME'], password=env['OS_PASSWORD'],
        project_name=env['OS_PROJECT_NAME'],
        user_domain_name=env.get('OS_USER_DOMAIN_NAME', 'Default'),
        project_domain_name=env.get('OS_PROJECT_DOMAIN_NAME', 'Default'))
    tls = {'disable_ssl_certificate_validation':
           env.get('OS_INSECURE', '').lower() in ('1', 'true', 'yes'),
           'ca_certs': env.get('OS_CACERT')}
    provider = auth.KeystoneV3AuthProvider(creds, auth_url, **tls)
    interface = env.get('OS_INTERFACE', 'public').replace('URL', '')
    return CloudClients(provider, env.get('OS_REGION_NAME', 'RegionOne'),
                        endpoint_type=interface + 'URL', **tls)
