"""Contains all the data models used in inputs/outputs"""

from .approve_request import ApproveRequest
from .balance import Balance
from .balance_test import BalanceTest
from .balances import Balances
from .bot_reason import BotReason
from .campaign_status import CampaignStatus
from .claim import Claim
from .claim_attachment import ClaimAttachment
from .claim_attachment_content_type import ClaimAttachmentContentType
from .claim_decided_event import ClaimDecidedEvent
from .claim_decided_event_type import ClaimDecidedEventType
from .claim_decision import ClaimDecision
from .claim_decision_decision import ClaimDecisionDecision
from .claim_evidence import ClaimEvidence
from .claim_found import ClaimFound
from .claim_opened_event import ClaimOpenedEvent
from .claim_opened_event_type import ClaimOpenedEventType
from .claim_proposal import ClaimProposal
from .claim_proposal_verdict import ClaimProposalVerdict
from .claim_status import ClaimStatus
from .click_data import ClickData
from .commission import Commission
from .commission_approved_event import CommissionApprovedEvent
from .commission_approved_event_type import CommissionApprovedEventType
from .commission_confidence_type_0 import CommissionConfidenceType0
from .commission_created_event import CommissionCreatedEvent
from .commission_created_event_type import CommissionCreatedEventType
from .commission_event_type import CommissionEventType
from .commission_kind import CommissionKind
from .commission_list import CommissionList
from .commission_rejected_event import CommissionRejectedEvent
from .commission_rejected_event_type import CommissionRejectedEventType
from .commission_reversed_event import CommissionReversedEvent
from .commission_reversed_event_type import CommissionReversedEventType
from .commission_status import CommissionStatus
from .confidence_reason import ConfidenceReason
from .confidence_reason_code import ConfidenceReasonCode
from .context import Context
from .conversion_created_event import ConversionCreatedEvent
from .conversion_created_event_type import ConversionCreatedEventType
from .conversion_data import ConversionData
from .conversion_data_coupon import ConversionDataCoupon
from .conversion_data_coupon_rules import ConversionDataCouponRules
from .conversion_data_coupon_rules_without_click import (
    ConversionDataCouponRulesWithoutClick,
)
from .conversion_data_metadata import ConversionDataMetadata
from .conversion_list import ConversionList
from .conversion_receipt import ConversionReceipt
from .conversion_request import ConversionRequest
from .conversion_request_metadata_type_0 import ConversionRequestMetadataType0
from .conversion_reversed_event import ConversionReversedEvent
from .conversion_reversed_event_type import ConversionReversedEventType
from .conversion_tested_event import ConversionTestedEvent
from .conversion_tested_event_type import ConversionTestedEventType
from .counters import Counters
from .coupon_leak import CouponLeak
from .coupon_leak_reasons_item import CouponLeakReasonsItem
from .coupon_leak_sources_item import CouponLeakSourcesItem
from .coupon_leak_suspected_event import CouponLeakSuspectedEvent
from .coupon_leak_suspected_event_type import CouponLeakSuspectedEventType
from .create_partner_link_body import CreatePartnerLinkBody
from .currency import Currency
from .customer import Customer
from .customer_bound_by import CustomerBoundBy
from .customer_bound_event import CustomerBoundEvent
from .customer_bound_event_type import CustomerBoundEventType
from .customer_commissions import CustomerCommissions
from .customer_moved import CustomerMoved
from .customer_moved_from_bound_by import CustomerMovedFromBoundBy
from .customer_revenue import CustomerRevenue
from .delivery_attempt import DeliveryAttempt
from .delivery_attempt_list import DeliveryAttemptList
from .delivery_attempt_status import DeliveryAttemptStatus
from .device import Device
from .empty_object import EmptyObject
from .error_code import ErrorCode
from .error_envelope import ErrorEnvelope
from .error_envelope_error import ErrorEnvelopeError
from .event_type import EventType
from .export_analytics_format import ExportAnalyticsFormat
from .export_analytics_funnel import ExportAnalyticsFunnel
from .export_analytics_group_by import ExportAnalyticsGroupBy
from .freshness import Freshness
from .funnel_report import FunnelReport
from .funnel_row import FunnelRow
from .get_analytics_funnel import GetAnalyticsFunnel
from .get_analytics_group_by import GetAnalyticsGroupBy
from .get_analytics_orphans import GetAnalyticsOrphans
from .get_payout_statement_format import GetPayoutStatementFormat
from .group_report import GroupReport
from .group_report_group_by import GroupReportGroupBy
from .group_row import GroupRow
from .health_response_200 import HealthResponse200
from .issued_partner_token import IssuedPartnerToken
from .link import Link
from .link_clicked_event import LinkClickedEvent
from .link_clicked_event_type import LinkClickedEventType
from .link_created_event import LinkCreatedEvent
from .link_created_event_type import LinkCreatedEventType
from .link_list import LinkList
from .link_record import LinkRecord
from .link_spec import LinkSpec
from .link_updated_event import LinkUpdatedEvent
from .link_updated_event_type import LinkUpdatedEventType
from .list_commissions_test import ListCommissionsTest
from .list_conversions_flagged import ListConversionsFlagged
from .list_conversions_reversed import ListConversionsReversed
from .list_conversions_verified import ListConversionsVerified
from .manual_commission_request import ManualCommissionRequest
from .metrics import Metrics
from .orphan_report import OrphanReport
from .orphan_report_rows_item import OrphanReportRowsItem
from .orphan_report_rows_item_kind import OrphanReportRowsItemKind
from .partner import Partner
from .partner_application import PartnerApplication
from .partner_application_status import PartnerApplicationStatus
from .partner_applied_event import PartnerAppliedEvent
from .partner_applied_event_type import PartnerAppliedEventType
from .partner_approved import PartnerApproved
from .partner_approved_event import PartnerApprovedEvent
from .partner_approved_event_type import PartnerApprovedEventType
from .partner_create_request import PartnerCreateRequest
from .partner_list import PartnerList
from .partner_status import PartnerStatus
from .partner_summary import PartnerSummary
from .partner_summary_balance import PartnerSummaryBalance
from .partner_summary_earnings_item import PartnerSummaryEarningsItem
from .partner_summary_next_payout import PartnerSummaryNextPayout
from .partner_summary_traffic import PartnerSummaryTraffic
from .partner_summary_traffic_top_links import PartnerSummaryTrafficTopLinks
from .partner_top_link import PartnerTopLink
from .partner_update_request import PartnerUpdateRequest
from .partner_updated import PartnerUpdated
from .partner_updated_changes_item import PartnerUpdatedChangesItem
from .partner_updated_event import PartnerUpdatedEvent
from .partner_updated_event_type import PartnerUpdatedEventType
from .payout import Payout
from .payout_created_event import PayoutCreatedEvent
from .payout_created_event_type import PayoutCreatedEventType
from .payout_failed_event import PayoutFailedEvent
from .payout_failed_event_type import PayoutFailedEventType
from .payout_list import PayoutList
from .payout_method_masked import PayoutMethodMasked
from .payout_method_type import PayoutMethodType
from .payout_paid_event import PayoutPaidEvent
from .payout_paid_event_type import PayoutPaidEventType
from .payout_provider import PayoutProvider
from .payout_provider_name import PayoutProviderName
from .payout_returned_event import PayoutReturnedEvent
from .payout_returned_event_type import PayoutReturnedEventType
from .payout_sent_event import PayoutSentEvent
from .payout_sent_event_type import PayoutSentEventType
from .payout_status import PayoutStatus
from .payout_waiting import PayoutWaiting
from .payout_waiting_reason import PayoutWaitingReason
from .payout_waiting_state import PayoutWaitingState
from .plan_changed_event import PlanChangedEvent
from .plan_changed_event_type import PlanChangedEventType
from .plan_notice import PlanNotice
from .plan_notice_difference_30d import PlanNoticeDifference30D
from .reject_request import RejectRequest
from .resend_dispatch import ResendDispatch
from .revenue import Revenue
from .reversal import Reversal
from .reversal_data import ReversalData
from .reverse_request import ReverseRequest
from .risk import Risk
from .risk_reasons_item import RiskReasonsItem
from .route_conditions import RouteConditions
from .routing_rule import RoutingRule
from .statement import Statement
from .statement_header import StatementHeader
from .statement_line import StatementLine
from .statement_plan_versions_item import StatementPlanVersionsItem
from .stored_routing_rule import StoredRoutingRule
from .sub_ids import SubIds
from .subscription import Subscription
from .subscription_create_request import SubscriptionCreateRequest
from .subscription_created import SubscriptionCreated
from .subscription_list import SubscriptionList
from .subscription_status import SubscriptionStatus
from .test_dispatch import TestDispatch
from .tracking import Tracking
from .update_webhook_body import UpdateWebhookBody
from .update_webhook_body_status import UpdateWebhookBodyStatus
from .variant import Variant
from .webhook_event import WebhookEvent
from .webhook_event_data import WebhookEventData
from .webhook_test_event import WebhookTestEvent
from .webhook_test_event_data import WebhookTestEventData
from .webhook_test_event_type import WebhookTestEventType

__all__ = (
    "ApproveRequest",
    "Balance",
    "BalanceTest",
    "Balances",
    "BotReason",
    "CampaignStatus",
    "Claim",
    "ClaimAttachment",
    "ClaimAttachmentContentType",
    "ClaimDecidedEvent",
    "ClaimDecidedEventType",
    "ClaimDecision",
    "ClaimDecisionDecision",
    "ClaimEvidence",
    "ClaimFound",
    "ClaimOpenedEvent",
    "ClaimOpenedEventType",
    "ClaimProposal",
    "ClaimProposalVerdict",
    "ClaimStatus",
    "ClickData",
    "Commission",
    "CommissionApprovedEvent",
    "CommissionApprovedEventType",
    "CommissionConfidenceType0",
    "CommissionCreatedEvent",
    "CommissionCreatedEventType",
    "CommissionEventType",
    "CommissionKind",
    "CommissionList",
    "CommissionRejectedEvent",
    "CommissionRejectedEventType",
    "CommissionReversedEvent",
    "CommissionReversedEventType",
    "CommissionStatus",
    "ConfidenceReason",
    "ConfidenceReasonCode",
    "Context",
    "ConversionCreatedEvent",
    "ConversionCreatedEventType",
    "ConversionData",
    "ConversionDataCoupon",
    "ConversionDataCouponRules",
    "ConversionDataCouponRulesWithoutClick",
    "ConversionDataMetadata",
    "ConversionList",
    "ConversionReceipt",
    "ConversionRequest",
    "ConversionRequestMetadataType0",
    "ConversionReversedEvent",
    "ConversionReversedEventType",
    "ConversionTestedEvent",
    "ConversionTestedEventType",
    "Counters",
    "CouponLeak",
    "CouponLeakReasonsItem",
    "CouponLeakSourcesItem",
    "CouponLeakSuspectedEvent",
    "CouponLeakSuspectedEventType",
    "CreatePartnerLinkBody",
    "Currency",
    "Customer",
    "CustomerBoundBy",
    "CustomerBoundEvent",
    "CustomerBoundEventType",
    "CustomerCommissions",
    "CustomerMoved",
    "CustomerMovedFromBoundBy",
    "CustomerRevenue",
    "DeliveryAttempt",
    "DeliveryAttemptList",
    "DeliveryAttemptStatus",
    "Device",
    "EmptyObject",
    "ErrorCode",
    "ErrorEnvelope",
    "ErrorEnvelopeError",
    "EventType",
    "ExportAnalyticsFormat",
    "ExportAnalyticsFunnel",
    "ExportAnalyticsGroupBy",
    "Freshness",
    "FunnelReport",
    "FunnelRow",
    "GetAnalyticsFunnel",
    "GetAnalyticsGroupBy",
    "GetAnalyticsOrphans",
    "GetPayoutStatementFormat",
    "GroupReport",
    "GroupReportGroupBy",
    "GroupRow",
    "HealthResponse200",
    "IssuedPartnerToken",
    "Link",
    "LinkClickedEvent",
    "LinkClickedEventType",
    "LinkCreatedEvent",
    "LinkCreatedEventType",
    "LinkList",
    "LinkRecord",
    "LinkSpec",
    "LinkUpdatedEvent",
    "LinkUpdatedEventType",
    "ListCommissionsTest",
    "ListConversionsFlagged",
    "ListConversionsReversed",
    "ListConversionsVerified",
    "ManualCommissionRequest",
    "Metrics",
    "OrphanReport",
    "OrphanReportRowsItem",
    "OrphanReportRowsItemKind",
    "Partner",
    "PartnerApplication",
    "PartnerApplicationStatus",
    "PartnerAppliedEvent",
    "PartnerAppliedEventType",
    "PartnerApproved",
    "PartnerApprovedEvent",
    "PartnerApprovedEventType",
    "PartnerCreateRequest",
    "PartnerList",
    "PartnerStatus",
    "PartnerSummary",
    "PartnerSummaryBalance",
    "PartnerSummaryEarningsItem",
    "PartnerSummaryNextPayout",
    "PartnerSummaryTraffic",
    "PartnerSummaryTrafficTopLinks",
    "PartnerTopLink",
    "PartnerUpdateRequest",
    "PartnerUpdated",
    "PartnerUpdatedChangesItem",
    "PartnerUpdatedEvent",
    "PartnerUpdatedEventType",
    "Payout",
    "PayoutCreatedEvent",
    "PayoutCreatedEventType",
    "PayoutFailedEvent",
    "PayoutFailedEventType",
    "PayoutList",
    "PayoutMethodMasked",
    "PayoutMethodType",
    "PayoutPaidEvent",
    "PayoutPaidEventType",
    "PayoutProvider",
    "PayoutProviderName",
    "PayoutReturnedEvent",
    "PayoutReturnedEventType",
    "PayoutSentEvent",
    "PayoutSentEventType",
    "PayoutStatus",
    "PayoutWaiting",
    "PayoutWaitingReason",
    "PayoutWaitingState",
    "PlanChangedEvent",
    "PlanChangedEventType",
    "PlanNotice",
    "PlanNoticeDifference30D",
    "RejectRequest",
    "ResendDispatch",
    "Revenue",
    "Reversal",
    "ReversalData",
    "ReverseRequest",
    "Risk",
    "RiskReasonsItem",
    "RouteConditions",
    "RoutingRule",
    "Statement",
    "StatementHeader",
    "StatementLine",
    "StatementPlanVersionsItem",
    "StoredRoutingRule",
    "SubIds",
    "Subscription",
    "SubscriptionCreateRequest",
    "SubscriptionCreated",
    "SubscriptionList",
    "SubscriptionStatus",
    "TestDispatch",
    "Tracking",
    "UpdateWebhookBody",
    "UpdateWebhookBodyStatus",
    "Variant",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookTestEvent",
    "WebhookTestEventData",
    "WebhookTestEventType",
)
