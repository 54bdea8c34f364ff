"""The API table: every OpenAPI document we serve, where, and which context answers it.

Add a row when a context gains an API. base_path is the one the TMF spec file declares, verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"


@dataclass(frozen=True)
class ApiEntry:
    name: str
    title: str
    spec: str  # file name under openapi/
    base_path: str
    module: str  # the context's api module that answers operationIds
    # The scope that reads this API: a hub listener's registering credential must still hold it for every
    # event delivered to it (server.auth.hub_gate).
    read_scope: str = ""


APIS: tuple[ApiEntry, ...] = (
    ApiEntry(
        name="resourceInventoryManagement",
        title="TMF639 Resource Inventory Management v4",
        spec="resource_inventory.yaml",
        base_path="/tmf-api/resourceInventoryManagement/v4",
        module="oss.resource_inventory.api",
        read_scope="resourceInventory:read",
    ),
    ApiEntry(
        name="numberInventory",
        title="Provisio Number Inventory v1",
        spec="number_inventory.yaml",
        base_path="/provisio/numberInventory/v1",
        module="oss.number_pool.api",
        read_scope="numberInventory:read",
    ),
    ApiEntry(
        name="ipam",
        title="Provisio IP Address Management v1",
        spec="ipam.yaml",
        base_path="/provisio/ipam/v1",
        module="oss.ip_pool.api",
        read_scope="ipam:read",
    ),
    ApiEntry(
        name="resourcePoolManagement",
        title="TMF685 Resource Pool Management v1",
        spec="reservation.yaml",
        base_path="/tmf-api/resourcePoolManagement/v1",  # the file writes it with a trailing "/", see the YAML
        module="oss.reservation.api",
        read_scope="resourcePool:read",
    ),
    ApiEntry(
        name="cpeInventory",
        title="Provisio CPE Inventory v1",
        spec="cpe.yaml",
        base_path="/provisio/cpe/v1",
        module="oss.cpe.api",
        read_scope="cpeInventory:read",
    ),
    ApiEntry(
        name="geographicSiteManagement",
        title="TMF674 Geographic Site Management v4",
        spec="geographic_site.yaml",
        base_path="/tmf-api/geographicSiteManagement/v4",  # the file writes it with a trailing "/", see the YAML
        module="oss.site.api",
        read_scope="geographicSite:read",
    ),
    ApiEntry(
        name="dcim",
        title="Provisio DCIM v1",
        spec="dcim.yaml",
        base_path="/provisio/dcim/v1",
        module="oss.site.dcim_api",
        read_scope="dcim:read",
    ),
    ApiEntry(
        name="audit",
        title="Provisio Audit and Event Operations v1",
        spec="audit.yaml",
        base_path="/provisio/audit/v1",
        module="server.audit_api",
        read_scope="audit:read",
    ),
    ApiEntry(
        name="auth",
        title="Provisio Authentication v1",
        spec="auth.yaml",
        base_path="/provisio/auth/v1",
        module="server.auth.api",
        read_scope="auth:admin",
    ),
)
