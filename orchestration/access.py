"""Who may do what in production Airflow: the three roles of the platform and its users.

Production runs Airflow with the FAB auth manager (``apache-airflow-providers-fab``,
the ``production`` extra); the embedded demo keeps the simple auth manager and its
generated admin password. The roles are declared here, as FAB permissions
``(action, resource)``, and ``ksp roles sync`` makes the metadata database hold exactly
these: a permission granted by hand in the UI is taken away again at the next sync, so
what a role may do is what this file (and the review of its diff) says.

* ``engineer``: everything, the permissions FAB's own ``Admin`` role holds.
* ``department`` (the Security Department): the DAGs and their runs, which it may
  trigger (the reports, a rebuild), and the state of each task; never connections,
  variables, configuration, task logs nor XComs, which carry the platform's internals.
* ``researcher``: read-only, to see when the last build published: the DAGs, their
  runs and task states; never task logs, XComs, connections, variables, configuration
  nor pools. Researchers receive data through the published versions, not Airflow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ENGINEER, DEPARTMENT, RESEARCHER = "engineer", "department", "researcher"
ROLE_NAMES = (ENGINEER, DEPARTMENT, RESEARCHER)

# FAB's action and resource names (airflow.providers.fab.www.security.permissions):
# literals here, so that the review of a role reads as the database will hold it
READ, EDIT, CREATE, MENU = "can_read", "can_edit", "can_create", "menu_access"

_OWN_ACCOUNT = [(READ, "My Password"), (EDIT, "My Password"), (READ, "My Profile"), (EDIT, "My Profile"),
                (READ, "Website")]
# what a researcher and the department both see: a DAG, its runs, the state of its tasks
_READ_RUNS = [
    (READ, "DAGs"), (READ, "DAG Runs"), (READ, "Task Instances"), (READ, "DAG Dependencies"),
    (READ, "DAG Versions"), (READ, "DAG Warnings"), (READ, "Assets"), (READ, "Asset Aliases"),
    (MENU, "Browse"), (MENU, "DAGs"), (MENU, "DAG Runs"), (MENU, "DAG Dependencies"), (MENU, "Assets"),
    (MENU, "Task Instances"),
]
# triggering a DAG run needs "can_edit" on DAGs as well as "can_create" on DAG Runs
# (FabAuthManager.is_authorized_dag); clearing a failed report's task needs the
# task-instance edit
_RUN_DAGS = [(EDIT, "DAGs"), (CREATE, "DAG Runs"), (EDIT, "DAG Runs"), (EDIT, "Task Instances"),
             (READ, "DAG Code"), (READ, "Cluster Activity"), (MENU, "Cluster Activity")]

DECLARED: dict[str, list[tuple[str, str]]] = {
    RESEARCHER: _OWN_ACCOUNT + _READ_RUNS,
    DEPARTMENT: _OWN_ACCOUNT + _READ_RUNS + _RUN_DAGS,
}
# resources no role but the engineer's may ever hold a permission on, whatever DECLARED says
ENGINEER_ONLY = frozenset({"Connections", "Variables", "Configurations", "Task Logs", "XComs", "Pools",
                           "Users", "Roles", "Passwords", "Permissions", "Permission Views", "View Menus",
                           "Audit Logs", "All Audit Logs", "Plugins", "Providers"})


@dataclass
class RoleSync:
    """What one ``ksp roles sync`` did to a role (so a repeated sync visibly changes nothing)."""

    role: str
    permissions: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def line(self) -> str:
        change = ", ".join([*(f"+{p}" for p in self.added), *(f"-{p}" for p in self.removed)]) or "unchanged"
        return f"{self.role:<11} {self.permissions:>3} permissions  {change}"


class AccessError(RuntimeError):
    """A role or user command that cannot be done (unknown role, existing user, weak password)."""


@contextlib.contextmanager
def _appbuilder() -> Iterator[Any]:
    """FAB's application builder on the configured metadata database (the one the
    ``airflow users``/``roles`` commands use), so ``ksp`` and the Airflow CLI agree."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        yield appbuilder


def _name(perm: Any) -> str:
    return f"{perm.action.name} on {perm.resource.name}"


def _wanted(sm: Any) -> dict[str, set[tuple[str, str]]]:
    """Each role's permissions: the engineer's are FAB's Admin's after FAB's own sync."""
    admin = sm.find_role("Admin")
    wanted = {ENGINEER: {(p.action.name, p.resource.name) for p in admin.permissions}}
    for role, perms in DECLARED.items():
        leaked = sorted({r for _a, r in perms} & ENGINEER_ONLY)
        if leaked:  # a guard on this file's own edits
            raise AccessError(f"role {role} is declared with engineer-only resources: {', '.join(leaked)}")
        wanted[role] = set(perms)
    return wanted


def sync_roles() -> list[RoleSync]:
    """Create FAB's resources and default roles (``airflow sync-perm``), then give each
    platform role exactly its permissions: missing ones added, any other one removed."""
    with _appbuilder() as appbuilder:
        appbuilder.add_permissions(update_perms=True)
        sm = appbuilder.sm
        sm.sync_roles()
        results = []
        for role_name, perms in _wanted(sm).items():
            role = sm.find_role(role_name) or sm.add_role(role_name)
            have = {(p.action.name, p.resource.name): p for p in role.permissions}
            result = RoleSync(role_name, len(perms))
            for action, resource in sorted(perms - have.keys()):
                sm.add_permission_to_role(role, sm.create_permission(action, resource))
                result.added.append(f"{action} on {resource}")
            for key in sorted(have.keys() - perms):
                sm.remove_permission_from_role(role, have[key])
                result.removed.append(_name(have[key]))
            results.append(result)
        return results


def role_permissions(role_name: str) -> set[tuple[str, str]]:
    """The permissions ``role_name`` holds in the metadata database now."""
    with _appbuilder() as appbuilder:
        role = appbuilder.sm.find_role(role_name)
        if role is None:
            raise AccessError(f"no role {role_name}: run `ksp roles sync` first")
        return {(p.action.name, p.resource.name) for p in role.permissions}


def create_user(username: str, email: str, role_name: str, password: str, *, first_name: str = "",
                last_name: str = "", exist_ok: bool = False) -> bool:
    """Create a user of one platform role; False if it exists and ``exist_ok``.

    There is no default password: the caller supplies one, and a password that
    production's settings check would refuse (empty, a default, a placeholder, under
    12 characters) is refused here too."""
    from ingestion.config import _weak

    if role_name not in ROLE_NAMES:
        raise AccessError(f"unknown role {role_name}: one of {', '.join(ROLE_NAMES)}")
    why = _weak(password, 12)
    if why:
        raise AccessError(f"the password for {username} {why}")
    with _appbuilder() as appbuilder:
        sm = appbuilder.sm
        role = sm.find_role(role_name)
        if role is None:
            raise AccessError(f"no role {role_name}: run `ksp roles sync` first")
        if sm.find_user(username=username):
            if exist_ok:
                return False
            raise AccessError(f"user {username} exists (change a password with `airflow users reset-password`)")
        user = sm.add_user(username, first_name or username, last_name or role_name, email, role, password)
        if not user:
            raise AccessError(f"FAB refused to create user {username} (is {email} already taken?)")
        return True
