# Check strings and helpers shared by the WireGuard API's policies (Neutron's own, plus the one
# that later Neutron releases define: a project member, or an admin).

from neutron.conf.policies import base
from oslo_log import versionutils
from oslo_policy import policy

ADMIN = base.ADMIN
ADMIN_OR_PROJECT_READER = base.ADMIN_OR_PROJECT_READER
ADMIN_OR_PROJECT_MEMBER = '(%s) or (%s)' % (base.ADMIN, base.PROJECT_MEMBER)

DEPRECATION_REASON = ('The WireGuard API supports the project reader and '
                      'member roles (system scope is not supported).')


def rule(name, check_str, description, operations, deprecated=None):
    """A documented project-scoped rule; deprecated: the old check string, if any."""
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, description=description,
        operations=operations, scope_types=['project'],
        deprecated_rule=policy.DeprecatedRule(
            name=name, check_str=deprecated,
            deprecated_reason=DEPRECATION_REASON,
            deprecated_since=versionutils.deprecated.ZED) if deprecated else None)


def attribute_rules(resource, path, attribute, description):
    """Admin-only create/update/get of one attribute."""
    collection = '/%ss' % resource
    return [
        rule('create_%s:%s' % (resource, attribute), ADMIN,
             'Specify ``%s`` when creating a %s' % (attribute, description),
             [{'method': 'POST', 'path': collection}]),
        rule('update_%s:%s' % (resource, attribute), ADMIN,
             'Update ``%s`` of a %s' % (attribute, description),
             [{'method': 'PUT', 'path': path}]),
        rule('get_%s:%s' % (resource, attribute), ADMIN,
             'Get ``%s`` of a %s' % (attribute, description),
             [{'method': 'GET', 'path': collection},
              {'method': 'GET', 'path': path}]),
    ]
