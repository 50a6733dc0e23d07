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

extensions = [
    'sphinx.ext.autodoc',
    'oslo_config.sphinxext',
    'sphinxcontrib.programoutput',
    'openstackdocstheme',
]

# openstackdocstheme options
openstackdocs_repo_name = 'x/trunk-cleanup-tempest'
openstackdocs_bug_project = 'trunk-cleanup-tempest'
openstackdocs_bug_tag = ''
openstackdocs_auto_name = False

source_suffix = '.rst'
master_doc = 'index'
project = 'trunk-cleanup-tempest'
copyright = '2026, trunk_cleanup_tempest developers'
add_module_names = False
pygments_style = 'native'
html_theme = 'openstackdocs'
autodoc_member_order = 'bysource'
autodoc_class_signature = 'separated'
# Document the tests, not what they inherit from tempest.
autodoc_inherit_docstrings = False
