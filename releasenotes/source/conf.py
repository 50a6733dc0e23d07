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

# Release notes build configuration (reno's Sphinx extension).

extensions = ['openstackdocstheme', 'reno.sphinxext']
templates_path = ['_templates']
source_suffix = '.rst'
master_doc = 'index'
project = 'trunk-cleanup-tempest Release Notes'
copyright = '2026, trunk_cleanup_tempest developers'
version = ''
release = ''
exclude_patterns = []
pygments_style = 'sphinx'
html_theme = 'openstackdocs'
html_static_path = ['_static']
locale_dirs = ['locale/']
openstackdocs_repo_name = 'x/trunk-cleanup-tempest'
openstackdocs_auto_name = False
