/*
 * formats.c - the bounce formats that text.c reads (see formats.h).
 *
 * Order matters: the first format that matches is used, so specific
 * formats come before the generic ones at the end.  Adding an MTA is
 * usually one entry: the words that identify it and, when its text
 * holds more than the error section, where that section starts and ends.
 */
#include <stddef.h>

#include "formats.h"

#define MAILER "mailer-daemon|postmaster|mail delivery|post_master|" \
	"mail.delivery.system|mailer daemon"

const struct btext_fmt bt_formats[] = {
	/* ---- MTAs (lhost) ---- */
	{ .name = "qmail", .body = "This is the qmail-send program|"
	    "qmail-send program at|I'm afraid I wasn't able to deliver",
	    .start = "addresses.|address.|recipients." },
	{ .name = "exim", .body = "This message was created automatically by "
	    "mail delivery software",
	    .start = "address(es) failed:|following address failed:|"
	    "address(es) deferred:|following addresses failed:" },
	{ .name = "exim", .header = "X-Failed-Recipients:",
	    .start = "address(es) failed:|following address failed:" },
	{ .name = "courier", .body = "running the Courier mail server",
	    .start = "cannot be delivered:|could not be delivered:|"
	    "UNDELIVERABLE MAIL",
	    .end = "If your message was also sent|The original message follows" },
	{ .name = "opensmtpd", .body = "This is the MAILER-DAEMON, please DO "
	    "NOT reply|Your message could not be delivered",
	    .from = MAILER, .subject = "Delivery status notification",
	    .start = "could not be delivered|delivery to the following "
	    "recipient", .end = "Below is a copy of the original message" },
	{ .name = "postfix", .body = "This is the mail system at host|"
	    "This is the Postfix program at host",
	    .start = "The mail system|The Postfix program",
	    .end = "--- Delivery report unavailable ---" },
	{ .name = "sendmail", .body = "----- Transcript of session follows -----|"
	    "The original message was received at",
	    .start = "----- The following addresses had permanent fatal errors|"
	    "----- The following addresses had permanent delivery errors|"
	    "----- The following addresses had transient non-fatal errors|"
	    "----- Transcript of session follows -----" },
	{ .name = "exchange2007", .body = "Delivery has failed to these "
	    "recipients or|Microsoft Exchange will not try to redeliver|"
	    "Diagnostic information for administrators:|"
	    "Delivery has failed to these recipients or groups",
	    .start = "Delivery has failed to these recipients or groups:|"
	    "Delivery has failed to these recipients or distribution lists:|"
	    "Diagnostic information for administrators:|"
	    "could not be delivered to",
	    .end = "Original message headers:|Original Message Headers" },
	{ .name = "exchange2003", .body = "did not reach the following "
	    "recipient(s):|MSEXCH:",
	    .start = "did not reach the following recipient(s):|"
	    "did not reach the following recipient" },
	{ .name = "domino", .body = "was not delivered to:",
	    .start = "was not delivered to:" },
	{ .name = "notes", .subject = "Undeliverable message",
	    .body = "------- Failure Reasons",
	    .start = "------- Failure Reasons" },
	{ .name = "messagingserver", .body = "This report relates to a "
	    "message you sent|Recipient address:",
	    .start = "Recipient address:|Original address:" },
	{ .name = "gmail", .from = "mailer-daemon@google|mailer-daemon@gmail",
	    .body = "Delivery to the following recipient",
	    .start = "Delivery to the following recipient" },
	{ .name = "googlegroups", .from = "mailer-daemon@google",
	    .body = "Google Groups|googlegroups" },
	{ .name = "yahoo", .from = "yahoo|MAILER-DAEMON@amazonses",
	    .body = "Sorry, we were unable to deliver your message|"
	    "Message from yahoo",
	    .start = "unable to deliver your message to the following "
	    "address", .end = "--- Below this line is a copy" },
	{ .name = "gmx", .from = "gmx", .body = "delivered to one or more" },
	{ .name = "mailru", .from = "mail.ru", .start = "К сожалению|"
	    "address(es) failed:" },
	{ .name = "yandex", .from = "yandex" },
	{ .name = "zoho", .from = "zoho" },
	{ .name = "biglobe", .from = "biglobe" },
	{ .name = "ezweb", .from = "ezweb" },
	{ .name = "kddi", .from = "dion.ne.jp|auone" },
	{ .name = "docomo", .from = "docomo" },
	{ .name = "trendmicro", .from = "InterScan" },
	{ .name = "imailserver", .subject = "Undeliverable Mail",
	    .body = "Original message follows|Body of message generated" },
	{ .name = "amazonworkmail", .header = "X-Mailer: Amazon WorkMail|"
	    "Amazon WorkMail" },
	/* ---- the rest: any text bounce from a mail system ---- */
	{ .name = "text", .from = MAILER },
	{ .name = "text", .subject = "undeliver|undelivered|delivery fail|"
	    "returned mail|failure notice|delivery status notification|"
	    "could not be delivered|mail delivery failed|"
	    "delivery notification|unzustellbar|non remis|no entregado|"
	    "non recapitato|niet afgeleverd|\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc" },
	{ NULL }
};
