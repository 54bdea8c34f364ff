"""The API table: every OpenAPI document we serve, where, and which context answers it.

Add a row when a context gains an API. base_path is the one the TMF spec file declares, verbatim.

TMF v5 files declare no ``/tmf-api`` prefix (``servers: https://serverRoot/productCatalogManagement/v5/``): a v5
API is served at ``/tmf-api`` + the path of that server URL, without its trailing "/"
(``/tmf-api/productCatalogManagement/v5``), the place TMF630 and every v4 file put the APIs, so v4 and v5
APIs sit side by side under one prefix.
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
    ApiEntry(
        name="productCatalogManagement",
        title="TMF620 Product Catalog Management v5",
        spec="product_catalog.yaml",
        base_path="/tmf-api/productCatalogManagement/v5",  # v5 rule above (the file says productCatalogManagement/v5/)
        module="bss.catalog.api",
        read_scope="productCatalog:read",
    ),
    ApiEntry(
        name="serviceCatalogManagement",
        title="TMF633 Service Catalog Management v4",
        spec="service_catalog.yaml",
        base_path="/tmf-api/serviceCatalogManagement/v4",  # the file writes it with a trailing "/"
        module="bss.catalog.api",
        read_scope="serviceCatalog:read",
    ),
    ApiEntry(
        name="resourceCatalog",
        title="TMF634 Resource Catalog Management v5",
        spec="resource_catalog.yaml",
        base_path="/tmf-api/resourceCatalog/v5",  # v5 rule above (the file says resourceCatalog/v5/)
        module="bss.catalog.api",
        read_scope="resourceCatalog:read",
    ),
)
