"""The words of Amazon's mail templates, per language (amazon.md §12.4-12.12, §15; email-samples 05-09).

Markers are matched by shape (dashes, a label, optional colon, dashes) and these tables only say what
a label means; an unknown label with a colon still opens the buyer's text (amazon.md §15).
"""

from __future__ import annotations

import re

# Labels of the begin marker, lower-case, without the colon -> language of the template.
# "message" alone is the newer generic form; its language comes from the end marker when known.
BEGIN_LABELS: dict[str, str] = {
    "begin message": "en",
    "begin message / début du message": "en",  # Amazon.ca, bilingual (14 dashes)
    "begin message / debut du message": "en",
    "message": "en",
    "anfang der nachricht": "de",
    "nachricht": "de",
    "inizio messaggio": "it",
    "messaggio": "it",
    "début du message": "fr",
    "debut du message": "fr",
    "dã©but du message": "fr",  # mojibake as written by a parser of real mail (sample 07)
    "iniciar mensaje": "es",
    "mensaje": "es",
    "メッセージはここから": "ja",
    "メッセージ": "ja",
    "mensagem": "pt",
    "iniciar mensagem": "pt",  # BR copy of a seller reply (2026)
    "início da mensagem": "pt",
    "inicio da mensagem": "pt",
}
GENERIC_BEGIN = frozenset({"message"})

END_LABELS: dict[str, str] = {
    "end message": "en",
    "end message / fin du message": "en",
    "ende der nachricht": "de",
    "fine messaggio": "it",
    "fin du message": "fr",
    "finalizar mensaje": "es",
    "メッセージはここまで": "ja",
    "encerrar mensagem": "pt",
    "mensagem final": "pt",
    "fim da mensagem": "pt",
}
BILINGUAL_LABELS = frozenset({"begin message / début du message", "begin message / debut du message"})

# Dash-framed labels that are mail clients' quote separators, never Amazon's markers.
QUOTE_LABEL = re.compile(
    r"original|ursprüngliche|d'origine|d’origine|originale|forwarded|weitergeleitet|元のメッセージ|転送",
    re.IGNORECASE,
)

# Any dash-framed label on one line: "------------- Anfang der Nachricht -------------".
# The look-behind makes every run of dashes start one attempt only (linear time on long dash runs).
MARKER = re.compile(r"(?<!-)-{3,}[ \t]*([^\n\r\-]{1,60}?)[ \t]*-{3,}")

# Where quoted history starts when a buyer replies from a mail client (amazon.md §12.7).
QUOTE_HEADERS = [
    re.compile(r"(?<!-)-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d['’]origine|Messaggio originale|"
               r"Mensaje original|Mensagem original|元のメッセージ)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^[ \t]*(?:On|Am|Le|Il|El|Em|Op)\b[^\n]{1,300}?(?:wrote|schrieb|a écrit|ha scritto|escribió|escreveu|"
               r"schreef)\b[^\n]{0,200}?:[ \t]*$", re.MULTILINE),
    re.compile(r"^[ \t]*(?:From|Von|De|Da)[ \t]*:[^\n]{1,300}\n(?:[^\n]{0,300}\n)?[ \t]*(?:Sent|Gesendet|Envoyé|Inviato|"
               r"Enviado|Date|Datum)[ \t]*:", re.MULTILINE),
    re.compile(r"^(?:>[^\n]*\n?){2,}", re.MULTILINE),
]  # fmt: skip

# Boilerplate under the buyer's text (sample 08). Distinctive phrases are searched anywhere; the
# short ones only at the start of a line, where Amazon puts them.
FOOTER_ANYWHERE = [
    "For Your Information: To help",
    "Was this email helpful?",
    "Report questionable activity",
    "[commMgrTok:",
    "We want you to buy with confidence",
    "If you believe this message is suspicious",
    "To mark this message as no response needed",
    "Wir möchten, dass Sie stets mit Vertrauen einkaufen",
    "Wenn Sie glauben, dass diese Nachricht ein Betrugsversuch",
    "Um anzugeben, dass für diese Nachricht keine Antwort erforderlich ist",
    "Faites vos achats sur Amazon",
    "Si vous trouvez ce message suspicieux",
    "Pour marquer ce message comme ne nécessitant pas de réponse",
    "Cada vez que realices una compra en Amazon",
    "Si desconfías del contenido de este mensaje",
    "Para marcar este mensaje e indicar que no requiere respuesta",
    "La sicurezza dei tuoi acquisti su Amazon",
    "Se questo messaggio ti sembra sospetto",
    "Per contrassegnare che questo messaggio non richiede una risposta",
    "Este e-mail foi útil?",
    "Denunciar atividade questionável",
    "Atenciosamente, Amazon.com.br",
    "此电子邮件是否有用",
    "如果您有任何问题，请访问",
    "要更改您的电子邮件首选项",
]
FOOTER_LINE_START = re.compile(
    r"^[ \t]*(?:Resolve case|Solucionar o caso|Wichtiger Hinweis:|Nota informativa:|Important ?:|"
    r"Direitos autorais|Copyright ©)",
    re.MULTILINE | re.IGNORECASE,
)

# Subject words for "Order" inside "(Order: …)" -> language, used when no marker says it.
ORDER_WORDS: dict[str, str] = {
    "order": "en",
    "bestellung": "de",
    "commande": "fr",
    "ordine": "it",
    "pedido": "es",
    "注文番号": "ja",
    "注文": "ja",
}

# "<topic> from Amazon customer <name>": the phrase before the buyer's first name, per language.
CUSTOMER_PHRASES = re.compile(
    r"(?:from Amazon customer|von Amazon-Kunde|del cliente de Amazon|du client Amazon|de la part du client Amazon|"
    r"dal cliente Amazon|dall'acquirente|do cliente da Amazon|do cliente Amazon|van Amazon-klant|"
    r"from Amazon buyer)",
    re.IGNORECASE,
)  # fmt: skip

# Display names that say "an Amazon buyer" rather than naming one (amazon.md §15).
GENERIC_NAMES = frozenset(
    {
        "amazon marketplace",
        "marketplace amazon",
        "amazon customer",
        "amazon buyer",
        "acquirente amazon",
        "cliente amazon",
        "cliente de amazon",
        "cliente da amazon",
        "client amazon",
        "amazon-kunde",
        "amazon kunde",
        "comprador amazon",
        "comprador da amazon",
        "amazon.com",
    }
)

# " - Amazon Marketplace", " - Marketplace d'Amazon.fr", " - Marketplace Amazon" (sample 06).
NAME_SUFFIX = re.compile(
    r"\s*[-–—]\s*(?:Amazon(?:\.[a-z.]{2,8})?\s+Marketplace|Marketplace\s+(?:d['’]|de\s+)?Amazon(?:\.[a-z.]{2,8})?)"
    r"(?:\s*\([^)]{0,40}\))?\s*$",
    re.IGNORECASE,
)

# Classification phrases (subject or body), checked for mail from Amazon's own senders.
SELLER_COPY = re.compile(
    r"Here is a copy of the e-?mail that you sent to|copy of the e-?mail (?:that )?you sent|^\s*Seu e-?mail para\b",
    re.IGNORECASE | re.MULTILINE,
)
SELLER_COPY_NAME = re.compile(
    r"(?:copy of the e-?mail that you sent to|Seu e-?mail para)\s+([^\n]{1,120}?)\s*\.?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
OPT_OUT = re.compile(
    r"opt(?:ed)?[ -]out of (?:receiving )?unsolicited messages|chosen to opt out|has opted out",
    re.IGNORECASE,
)
DELIVERY_FAILURE = re.compile(
    r"(?:could not be|couldn't be|was not|were unable to|unable to be) (?:delivered|deliver|sent)|"
    r"not delivered because|message was not sent|did not meet the Buyer-Seller Messaging|"
    r"restricted from sending|not (?:an )?(?:authori[sz]ed|approved|registered) (?:e-?mail )?(?:address|sender)|"
    r"konnte nicht zugestellt werden|n'a pas pu être (?:remis|envoyé)|non è stato possibile recapitare|"
    r"no se ha podido entregar|não foi possível entregar",
    re.IGNORECASE,
)  # fmt: skip
RETURN_REQUEST = re.compile(
    r"return request|return authori[sz]ation|Rücksendeanfrage|Rücksendung angefordert|demande de retour|"
    r"richiesta di reso|solicitud de devolución|solicitação de devolução|返品リクエスト",
    re.IGNORECASE,
)  # fmt: skip
A_TO_Z = re.compile(
    r"A-to-z|A-bis-z|A à Z|dalla A alla Z|de la A a la z|de A a Z|Aから|atoz-guarantee",
    re.IGNORECASE,
)

# Why a seller's message was refused, from the notice's words or a DSN's diagnostic (most specific first).
FAILURE_REASONS: list[tuple[str, re.Pattern[str]]] = [
    ("opted_out", OPT_OUT),
    ("account_restricted", re.compile(r"restricted from sending|account (?:is |was )?restricted", re.IGNORECASE)),
    ("unauthorized_sender", re.compile(
        r"not (?:an )?(?:authori[sz]ed|approved|registered)|unauthori[sz]ed|Messaging Permissions|"
        r"approved sender|sender (?:is )?not allowed", re.IGNORECASE)),
    ("auth_failed", re.compile(r"\bSPF\b|\bDMARC\b|\bDKIM\b|unauthenticated", re.IGNORECASE)),
    ("content_rejected", re.compile(
        r"communication guidelines|did not meet|prohibited content|not permitted|content (?:was )?rejected|"
        r"violat", re.IGNORECASE)),
    ("unknown_recipient", re.compile(
        r"\b5\.1\.[01]\b|user unknown|no such user|does not exist|unknown (?:user|recipient)|"
        r"recipient address rejected", re.IGNORECASE)),
]  # fmt: skip

BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery status notification|mail delivery (?:failed|failure|system)|"
    r"failure notice|non remis|unzustellbar|nicht zustellbar|non recapitabile",
    re.IGNORECASE,
)
