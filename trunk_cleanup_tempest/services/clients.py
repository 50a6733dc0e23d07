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
from tempest.lib.services import clients as lib_clients

REQUIRED = ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME')


class MissingCredentials(ValueError):
    """The environment does not say how to reach the cloud."""


class CloudClients:
    """The network and compute clients the cleanup library uses."""

    def __init__(self, service_clients):
        network = service_clients.network
        self.trunks_client = network.TrunksClient()
        self.ports_client = network.PortsClient()
        self.servers_client = service_clients.compute.ServersClient()


def from_environ(environ=None):
    """Authenticate with Keystone v3 from ``OS_*`` variables.

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
    interface = env.get('OS_INTERFACE', 'public').replace('URL', '')
    params = {'endpoint_type': interface + 'URL'}
    insecure = env.get('OS_INSECURE', '').lower() in ('1', 'true', 'yes')
    service_clients = lib_clients.ServiceClients(
        creds, auth_url, region=env.get('OS_REGION_NAME'),
        disable_ssl_certificate_validation=insecure,
        ca_certs=env.get('OS_CACERT'),
        client_parameters={'network': dict(params, service='network'),
                           'compute': dict(params, service='compute')})
    return CloudClients(service_clients)
