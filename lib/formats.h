/*
 * formats.h - bounce formats as data, read by the engine in text.c.
 *
 * A format applies when every one of from, subject, body and header that
 * it gives matches (each a list of '|'-separated alternatives, matched
 * case-insensitively as substrings of the bounce's From header, Subject,
 * own text, or whole header block).  Its error section runs from the end
 * of the first start marker (or the text's start) to the first end
 * marker (or a returned header block).  Every address in the section
 * except the sender's and the postmaster's is a failed recipient, and the
 * text after it, up to the next address, is its diagnostic.
 */
#ifndef BOUNCE_FORMATS_H
#define BOUNCE_FORMATS_H

struct btext_fmt {
	const char *name;	/* the detector column */
	const char *from, *subject, *body, *header;
	const char *start;	/* error section starts after this */
	const char *end;	/* the returned message starts here */
	int delayed;		/* a delay warning, not a failure */
	int before;		/* the reason stands before the addresses
				 * and is every address's diagnostic */
	int bare;		/* an address may be a bare local part, alone
				 * on its line, at the domain of the From */
	int anysender;		/* known by .from alone, yet not sent from
				 * a mail system's address (see
				 * fmt_matches()) */
};

extern const struct btext_fmt bt_formats[];

/* Where a returned message starts in most bounces. */
#define BT_END \
	"--- Below this line is a copy of the message|" \
	"---Below this line is a copy of the message|" \
	"--- Enclosed are the original headers|" \
	"--- Mensaje original adjunto|" \
	"---- START OF RETURNED MESSAGE|" \
	"------ This is a copy of the message|" \
	"----- This is a copy of the message|" \
	"----- Original message -----|" \
	"Original message headers:|" \
	"------ Original message follows|" \
	"----- Original message follows|" \
	"--- Original message follows|" \
	"Original message follows.|" \
	"----- The following is a copy of|" \
	"--- The header of the original message is following|" \
	"------- Returned Message --------|" \
	"----- Unsent message follows -----|" \
	"----- Original Message -----|" \
	"-----Original Message-----|" \
	"Message header follows|" \
	"------ Headers of your message|" \
	"-------- Original Message --------"

/* Where the error section ends in any case: a footer after it (an
 * antivirus or a signature line) or boilerplate that no address or
 * diagnostic follows. */
#define BT_FOOT \
	"\n__________|\n-- \n|No action is required on your part|" \
	"---------- Forwarded message|This email has been scanned|" \
	"This e-mail has been scanned|This message has been scanned|" \
	"Error Detail (phquery"

/* Words that say a delivery failed or is late, for a text that names
 * no address and returns no message. */
#define BT_FAILED \
	"not be delivered|n't be delivered|not delivered|undeliver|" \
	"unable to deliver|delivery fail|failed|failure|rejected|" \
	"unknown|does not exist|no such|permanent|returned|bounced|" \
	"refused|not accepted|unzustellbar|non remis|no entregado|" \
	BT_DELAY_SUBJECT "|" BT_DELAY_BODY

/* Words of a delay warning (in the Subject or the text): the message
 * is still queued, so its recipients are "delayed", not "failed". */
#define BT_DELAY_SUBJECT \
	"(Delay)|delayed|Warning: could not send|Warning--Could not send|" \
	"could not send mail for past|still being retried|" \
	"notification: warning|Delivery delayed|retarde|Verz\xc3\xb6gert"
#define BT_DELAY_BODY \
	"has not yet been delivered|YOU DO NOT NEED TO RESEND|" \
	"This is a warning message only|will continue to try|" \
	"will keep trying|will retry for|attempts will continue to be made"

/* The senders of a mail system's own notices. */
#define BT_MAILER "mailer-daemon|postmaster|mail delivery|post_master|" \
	"mail.delivery.system|mailer daemon|mail deliver|mdaemon@"

/* The Content-Type of a message that is a delivery report. */
#define BT_DSN_REPORT \
	"report-type=delivery-status|report-type=\"delivery-status\""

/* Does any of the '|'-separated alternatives occur in s? */
int bt_any(const char *s, const char *alts);

#endif
