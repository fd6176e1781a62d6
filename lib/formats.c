/*
 * formats.c - the bounce formats that text.c reads (see formats.h).
 *
 * Order matters: the first format that matches is used.  Providers come
 * first (they often run a well-known MTA underneath and reword it), then
 * MTAs, then gateways, then the generic entries at the end.  Adding an
 * MTA is usually one entry: the words that identify it and, when its
 * text holds more than the error section, where that section starts and
 * ends.
 */
#include <stddef.h>

#include "formats.h"

/* The usual openings of an Exim-written error section. */
#define EXIM_START "address(es) failed:|following address failed:|" \
	"following addresses failed:|address(es) deferred:|" \
	"following address(es) failed:|its recipients. This is a permanent " \
	"error.|recipients. This is a permanent error.|" \
	"not yet been delivered is:|not yet been delivered are:"

const struct btext_fmt bt_formats[] = {
	/* ---- providers (rhost and hosted services) ---- */
	{ .name = "aol", .from = "@aol.com",
	    .body = "Your mail to the following recipients could not be "
	    "delivered", .start = "could not be delivered", .bare = 1 },
	{ .name = "googlegroups", .from = "mailer-daemon@google",
	    .body = "Google Groups|groups.google.com" },
	{ .name = "googleworkspace", .from = "mailer-daemon@google",
	    .body = "** Message not delivered **|Message not delivered" },
	{ .name = "gmail", .from = "mailer-daemon@google|mailer-daemon@gmail",
	    .start = "Delivery to the following recipient" },
	{ .name = "yahoo", .from = "yahoo|MAILER-DAEMON@amazonses",
	    .body = "Sorry, we were unable to deliver your message|"
	    "Message from yahoo",
	    .start = "unable to deliver your message to the following "
	    "address" },
	{ .name = "gmx", .from = "gmx", .start = EXIM_START },
	{ .name = "einsundeins", .from = "kundenserver|1und1|1and1|ionos",
	    .start = EXIM_START },
	{ .name = "mailru", .from = "mail.ru",
	    .start = "К сожалению|" EXIM_START },
	{ .name = "yandex", .from = "yandex" },
	{ .name = "zoho", .from = "zoho", .start = EXIM_START },
	{ .name = "mxlogic", .from = "mxlogic|mxl8",
	    .start = EXIM_START, .end = "Included is a copy of the message" },
	{ .name = "biglobe", .from = "biglobe",
	    .start = "----- The following addresses had delivery problems" },
	{ .name = "ezweb", .from = "ezweb",
	    .end = "---------------------------------------------------" },
	{ .name = "kddi", .from = "dion.ne.jp|auone", .anysender = 1 },
	{ .name = "docomo", .from = "docomo" },
	{ .name = "apachejames", .from = BT_MAILER,
	    .body = "Error message below:", .start = "Error message below:",
	    .before = 1 },
	{ .name = "verizon", .from = "vzwpix|vtext", .end = "Original Message:",
	    .anysender = 1 },
	/* ---- MTAs (lhost) ---- */
	{ .name = "qmail", .body = "This is the qmail-send program|"
	    "qmail-send program at|I'm afraid I wasn't able to deliver|"
	    "programa qmail-send",
	    .start = "addresses.|address.|recipients.|direcciones." },
	{ .name = "dragonfly", .body = "DragonFly Mail Agent",
	    .start = "error delivering your mail to",
	    .end = "Message headers follow." },
	{ .name = "courier", .body = "running the Courier mail server",
	    .start = "cannot be delivered:|could not be delivered:|"
	    "UNDELIVERABLE MAIL",
	    .end = "If your message was also sent|The original message follows" },
	{ .name = "opensmtpd", .from = BT_MAILER,
	    .subject = "Delivery status notification",
	    .body = "This is the MAILER-DAEMON, please DO NOT reply|"
	    "Your message could not be delivered",
	    .start = "could not be delivered|delivery to the following "
	    "recipient", .end = "Below is a copy of the original message" },
	{ .name = "exim", .body = "This message was created automatically by "
	    "mail delivery software", .start = EXIM_START },
	{ .name = "exim", .header = "X-Failed-Recipients:",
	    .start = EXIM_START },
	{ .name = "postfix", .body = "This is the mail system at host|"
	    "This is the Postfix program at host",
	    .start = "The mail system|The Postfix program",
	    .end = "--- Delivery report unavailable ---" },
	{ .name = "activehunter", .header = "Active!Hunter",
	    .start = "----- The following addresses had" },
	{ .name = "sendmail", .body = "----- Transcript of session follows -----|"
	    "The original message was received at",
	    .start = "----- The following addresses had permanent fatal errors|"
	    "----- The following addresses had permanent delivery errors|"
	    "----- The following addresses had transient non-fatal errors|"
	    "---The following addresses had delivery errors---|"
	    "----- Transcript of session follows -----" },
	{ .name = "exchange2007", .body = "Delivery has failed to these "
	    "recipients or|Microsoft Exchange will not try to redeliver|"
	    "Diagnostic information for administrators:",
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
	{ .name = "imailserver", .subject = "Undeliverable Mail",
	    .body = "Original message follows|Body of message generated" },
	{ .name = "mailfoundry", .subject = "Message delivery has failed",
	    .body = "Unable to deliver message to" },
	{ .name = "mfilter", .header = "X-Mailer: m-FILTER",
	    .body = "-------server message",
	    .end = "-------original message" },
	{ .name = "mfilter", .from = BT_MAILER, .body = "-------server message",
	    .end = "-------original message" },
	/* ---- mailing list managers: the list refused the message ---- */
	{ .name = "fml", .header = "X-MLServer: fml|X-MLServer:fml",
	    .subject = "not member|Loop Alert|error|rejected",
	    .end = "Original mail as follows:|\n\n" },
	/* ---- gateways and filters: a product name alone is not enough,
	 * the message must come from a mail system too ---- */
	{ .name = "trendmicro", .from = "InterScan|Trend Micro" },
	{ .name = "mailmarshal", .from = BT_MAILER, .body = "MailMarshal" },
	{ .name = "mcafee", .from = BT_MAILER, .body = "McAfee|MXLogic" },
	{ .name = "barracuda", .from = BT_MAILER, .body = "Barracuda" },
	{ .name = "messagelabs", .from = BT_MAILER,
	    .body = "MessageLabs|Symantec.cloud" },
	{ .name = "mimecast", .from = BT_MAILER, .body = "Mimecast|mimecast.com" },
	/* ---- the rest: any text bounce from a mail system ---- */
	{ .name = "text", .from = BT_MAILER },
	{ .name = "text", .subject = "undeliver|undelivered|delivery fail|"
	    "returned mail|failure notice|delivery status notification|"
	    "non-delivery|"
	    "could not be delivered|mail delivery failed|"
	    "delivery notification|unzustellbar|non remis|no entregado|"
	    "non recapitato|niet afgeleverd|"
	    "\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc" },
	/* A notice from an empty sender that says an address failed. */
	{ .name = "text", .from = "<>", .body = "not a valid user|"
	    "no such user|user unknown|unknown user|does not exist|"
	    "could not be delivered|undeliverable" },
	/* A delivery report whose report part says nothing usable. */
	{ .name = "text", .header = BT_DSN_REPORT },
	{ .name = NULL }
};
