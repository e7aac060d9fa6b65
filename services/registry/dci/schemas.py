"""What DCI clients send and receive: the envelope `{signature, header, message}`, answers,
acknowledgements and the standard's error document (the schemas the OpenAPI shows; the
standard's own are in `spec/`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body
from pydantic import BaseModel, ConfigDict, Field

SEARCH_EXAMPLE = {
    "signature": "",
    "header": {
        "version": "1.0.0",
        "message_id": "0c96614c-7255-4774-b109-cd53ee851769",
        "message_ts": "2026-11-21T08:15:04.555Z",
        "action": "search",
        "sender_id": "moh-health-equity",
        "receiver_id": "registry.sp.gov.kh",
        "total_count": 1,
        "is_msg_encrypted": False,
    },
    "message": {
        "transaction_id": "T-0001",
        "search_request": [
            {
                "reference_id": "R-0001",
                "timestamp": "2026-11-21T08:15:04Z",
                "search_criteria": {
                    "version": "1.0.0",
                    "query_type": "idtype-value",
                    "query": {"type": "HOUSEHOLD_ID", "value": "HH000000019"},
                    "pagination": {"page_size": 10, "page_number": 1},
                },
            }
        ],
    },
}


class DciEnvelope(BaseModel):
    """A DCI message: `{signature, header, message}` (see the DCI standard for the schemas
    of `header` (MsgHeader) and `message` per action)."""

    model_config = ConfigDict(extra="allow")

    signature: str | None = Field(
        None,
        description='The standard\'s MsgSignature: `Signature: namespace="spdci", '
        'kidId="{sender_id}|{key_id}|ed25519", algorithm="ed25519", created=..., '
        'expires=..., headers="(created) (expires) digest", signature=...`, verified '
        "against the keys registered for the calling client (REGISTRY_DCI_CLIENT_KEYS); "
        "empty only for a client registered as unsigned. How to sign: README, DCI section.",
    )
    header: dict[str, Any]
    message: dict[str, Any]


class DciCallbackHeader(BaseModel):
    """The standard's MsgCallbackHeader of every answer (and of callbacks)."""

    version: str
    message_id: str
    message_ts: str
    action: str = Field(description="on-search, txn-on-status, on-subscribe, notify ...")
    status: Literal["rcvd", "pdng", "succ", "rjct"]
    status_reason_code: str | None = Field(
        None, description="A MsgHeaderStatusReasonCode when the whole message was rejected."
    )
    status_reason_message: str | None = None
    total_count: int
    completed_count: int
    sender_id: str
    receiver_id: str | None = None
    is_msg_encrypted: bool = False
    meta: dict[str, Any] | None = None


class DciResponse(BaseModel):
    """An answer envelope; `message` is the standard's SearchResponse (search_response[] with
    status, status_reason_code, data.reg_records, pagination) or TxnStatusResponse."""

    signature: str
    header: DciCallbackHeader
    message: dict[str, Any]


class DciAckMessage(BaseModel):
    ack_status: Literal["ACK", "NACK", "ERR"]
    timestamp: str
    correlation_id: str = Field(
        description="The registry's id for this message's work: the correlation_id its "
        "callbacks and the transaction status carry (a rejected message gets one too)."
    )
    error: dict[str, str] | None = None


class DciAck(BaseModel):
    """The standard's acknowledgement of an async request."""

    message: DciAckMessage


class SubscriptionInfo(BaseModel):
    version: str
    code: str
    status: Literal["subscribe", "unsubscribe"]
    timestamp: str | None
    reg_type: str
    reg_event_type: str
    frequency: dict[str, Any] | None = None
    filter_type: str | None = None
    filter: Any = None
    notify_record_type: str
    notify_uri: str


EnvelopeBody = Annotated[
    DciEnvelope, Body(openapi_examples={"by household id": {"value": SEARCH_EXAMPLE}})
]
