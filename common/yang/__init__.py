"""The YANG data model the simulated devices serve, and what both sides of the socket need of it.

Neutral ground between ``simulators`` (the network) and ``oss.activation`` (which may never import the
simulators, and which the simulators may never import): the compiled schema (:mod:`common.yang.model`), the
RFC 7951 JSON <-> NETCONF XML codec (:mod:`common.yang.xmlcodec`), YANG validation with rpc-error fields
(:mod:`common.yang.validate`) and the RFC 6241 ``<edit-config>`` engine (:mod:`common.yang.edit`). The simulators
run their datastores on it; the activation dry-run computes "running after this edit" offline with the very
same code, so the two cannot disagree. It imports no project package.
"""
