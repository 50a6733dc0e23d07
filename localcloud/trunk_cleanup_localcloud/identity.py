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

"""Who and what keystone knows: projects, users, roles and the catalog.

Made as devstack makes them, once keystone serves; and the admin's
tempest.lib clients that the rest of ``up`` uses.
"""

from tempest.lib import auth
from tempest.lib.services.identity.v3 import endpoints_client
from tempest.lib.services.identity.v3 import projects_client
from tempest.lib.services.identity.v3 import roles_client
from tempest.lib.services.identity.v3 import services_client
from tempest.lib.services.identity.v3 import users_client

from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import services

CATALOG = (
    # (service name, type, endpoint path)
    ('nova', 'compute', '/v2.1'),
    ('neutron', 'network', ''),
    ('placement', 'placement', ''),
    ('glance', 'image', ''),
)


def admin_provider(layout):
    """tempest.lib auth as the admin, in the admin project."""
    creds = auth.KeystoneV3Credentials(
        username='admin', password=layout.password, project_name='admin',
        user_domain_name='Default', project_domain_name='Default')
    return auth.KeystoneV3AuthProvider(creds, layout.auth_url)


def client(cls, service, layout):
    """A tempest.lib client of ``service`` as the admin."""
    return cls(admin_provider(layout), service, layout_mod.REGION,
               endpoint_type='publicURL')


def register(layout):
    """Projects, users, roles and the catalog, as devstack makes them."""
    roles = client(roles_client.RolesClient, 'identity', layout)
    projects = client(projects_client.ProjectsClient, 'identity', layout)
    users = client(users_client.UsersClient, 'identity', layout)
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
    catalog = client(services_client.ServicesClient, 'identity', layout)
    endpoints = client(endpoints_client.EndPointsClient, 'identity', layout)

    def service(name, kind, path):
        sid = catalog.create_service(name=name,
                                     type=kind)['service']['id']
        for interface in ('public', 'internal', 'admin'):
            endpoints.create_endpoint(
                service_id=sid, interface=interface,
                url=layout.url(name, path), region=layout_mod.REGION)
    # Independent of each other: made at once.
    services.in_parallel(
        *[lambda name=name: user(name, 'service', ('admin', 'service'))
          for name in services.SERVICE_USERS],
        lambda: user('demo', 'demo', ('member',)),
        *[lambda entry=entry: service(*entry) for entry in CATALOG])
