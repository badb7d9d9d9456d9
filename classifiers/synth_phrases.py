# ruff: noqa: E501  (one phrase per line reads better than wrapped strings)
# fmt: off
"""What customers write around their request, per language (see ``synth_requests``)."""

from __future__ import annotations

GREETINGS: dict[str, list[str]] = {
    "en": ["Hello,", "Hi,", "Hi there,", "Dear support team,", "Good morning,", ""],
    "es": ["Hola,", "Buenos días,", "Estimado equipo de soporte:", "Buenas tardes,", ""],
    "pt": ["Olá,", "Bom dia,", "Prezados,", "Boa tarde,", ""],
    "fr": ["Bonjour,", "Madame, Monsieur,", "Bonsoir,", "Bonjour l'équipe,", ""],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,", ""],
    "it": ["Buongiorno,", "Salve,", "Gentile assistenza,", "Ciao,", ""],
}

CLOSINGS: dict[str, list[str]] = {
    "en": ["Thanks,", "Thank you in advance,", "Best regards,", "Kind regards,", "Cheers,"],
    "es": ["Gracias,", "Saludos,", "Un saludo,", "Muchas gracias de antemano,"],
    "pt": ["Obrigado,", "Atenciosamente,", "Abraços,", "Desde já agradeço,"],
    "fr": ["Merci,", "Cordialement,", "Bien à vous,", "Merci d'avance,"],
    "de": ["Danke,", "Viele Grüße", "Mit freundlichen Grüßen", "Vielen Dank im Voraus,"],
    "it": ["Grazie,", "Cordiali saluti,", "Saluti,", "Grazie in anticipo,"],
}

URGENCY: dict[str, list[str]] = {
    "en": ["This is urgent.", "Please help as soon as possible.", "I need this fixed today."],
    "es": ["Es urgente.", "Por favor, ayúdenme lo antes posible.", "Necesito una solución hoy."],
    "pt": ["É urgente.", "Por favor, me ajudem o quanto antes.", "Preciso disso resolvido hoje."],
    "fr": ["C'est urgent.", "Merci de m'aider au plus vite.", "J'ai besoin d'une solution aujourd'hui."],
    "de": ["Es ist dringend.", "Bitte helfen Sie mir so schnell wie möglich.", "Ich brauche heute eine Lösung."],
    "it": ["È urgente.", "Vi prego di aiutarmi il prima possibile.", "Ho bisogno di una soluzione oggi."],
}

# Category-neutral context a customer adds around the request.
CONTEXT: dict[str, list[str]] = {
    "en": [
        "I have been a customer for {days} years.",
        "I already tried calling but nobody answered.",
        "This is my second message about this.",
        "My colleague had the same problem last week.",
        "I am writing from my phone, sorry for typos.",
        "I checked the FAQ but could not find an answer.",
    ],
    "es": [
        "Soy cliente desde hace {days} años.",
        "Ya intenté llamar pero nadie contestó.",
        "Es mi segundo mensaje sobre esto.",
        "A un compañero le pasó lo mismo la semana pasada.",
        "Escribo desde el móvil, perdón por los errores.",
        "Revisé las preguntas frecuentes pero no encontré la respuesta.",
    ],
    "pt": [
        "Sou cliente há {days} anos.",
        "Já tentei ligar mas ninguém atendeu.",
        "Esta é a segunda mensagem que envio sobre isso.",
        "Um colega teve o mesmo problema semana passada.",
        "Estou escrevendo do celular, desculpem os erros.",
        "Olhei as perguntas frequentes mas não achei a resposta.",
    ],
    "fr": [
        "Je suis client depuis {days} ans.",
        "J'ai déjà essayé d'appeler mais personne n'a répondu.",
        "C'est mon deuxième message à ce sujet.",
        "Un collègue a eu le même problème la semaine dernière.",
        "J'écris depuis mon téléphone, désolé pour les fautes.",
        "J'ai consulté la FAQ sans trouver de réponse.",
    ],
    "de": [
        "Ich bin seit {days} Jahren Kunde.",
        "Ich habe schon angerufen, aber niemand ist rangegangen.",
        "Das ist meine zweite Nachricht dazu.",
        "Ein Kollege hatte letzte Woche das gleiche Problem.",
        "Ich schreibe vom Handy, sorry für Tippfehler.",
        "Ich habe die FAQ gelesen, aber keine Antwort gefunden.",
    ],
    "it": [
        "Sono cliente da {days} anni.",
        "Ho già provato a chiamare ma non ha risposto nessuno.",
        "È il mio secondo messaggio su questo.",
        "Un collega ha avuto lo stesso problema la settimana scorsa.",
        "Scrivo dal telefono, scusate gli errori.",
        "Ho letto le FAQ ma non ho trovato una risposta.",
    ],
}

# Introduces a second, minor request in the same ticket.
ALSO: dict[str, list[str]] = {
    "en": ["Also,", "One more thing:", "By the way,"],
    "es": ["Además,", "Otra cosa:", "Por cierto,"],
    "pt": ["Além disso,", "Outra coisa:", "Aliás,"],
    "fr": ["Aussi,", "Autre chose :", "Au fait,"],
    "de": ["Außerdem:", "Noch etwas:", "Übrigens,"],
    "it": ["Inoltre,", "Un'altra cosa:", "A proposito,"],
}

PRODUCTS = [
    "X200 router", "SmartCam 3", "AirBuds Pro", "Kettle K5", "ThermoHub",
    "Nova 12 phone", "FitBand 4", "PowerDock", "Vision 55 TV", "EcoVac S",
]

# The header of a quoted earlier message ({date}, {name}, {email}), as mail clients write it.
QUOTE_HEADERS: dict[str, list[str]] = {
    "en": ["On {date}, {name} <{email}> wrote:", "-----Original Message-----\nFrom: {name} <{email}>\nSent: {date}"],
    "es": ["El {date}, {name} <{email}> escribió:", "-----Mensaje original-----\nDe: {name} <{email}>\nEnviado: {date}"],
    "pt": ["Em {date}, {name} <{email}> escreveu:", "-----Mensagem original-----\nDe: {name} <{email}>\nEnviada: {date}"],
    "fr": ["Le {date}, {name} <{email}> a écrit :", "-----Message d'origine-----\nDe : {name} <{email}>\nEnvoyé : {date}"],
    "de": ["Am {date} schrieb {name} <{email}>:", "-----Ursprüngliche Nachricht-----\nVon: {name} <{email}>\nGesendet: {date}"],
    "it": ["Il giorno {date} {name} <{email}> ha scritto:", "-----Messaggio originale-----\nDa: {name} <{email}>\nInviato: {date}"],
}

# What a support agent wrote before, quoted under the customer's reply.
AGENT_REPLIES: dict[str, list[str]] = {
    "en": ["Thank you for contacting us.", "We have received your request and will get back to you shortly.", "Could you please send us more details?", "Your ticket number is {order}.", "Kind regards, Customer Service"],
    "es": ["Gracias por contactarnos.", "Hemos recibido su solicitud y le responderemos en breve.", "¿Podría enviarnos más detalles?", "Su número de caso es {order}.", "Atentamente, Atención al cliente"],
    "pt": ["Obrigado por entrar em contato.", "Recebemos sua solicitação e responderemos em breve.", "Poderia nos enviar mais detalhes?", "O número do seu chamado é {order}.", "Atenciosamente, Atendimento ao cliente"],
    "fr": ["Merci de nous avoir contactés.", "Nous avons bien reçu votre demande et reviendrons vers vous rapidement.", "Pourriez-vous nous envoyer plus de détails ?", "Votre numéro de dossier est {order}.", "Cordialement, Service client"],
    "de": ["Vielen Dank für Ihre Nachricht.", "Wir haben Ihre Anfrage erhalten und melden uns in Kürze.", "Könnten Sie uns weitere Details schicken?", "Ihre Ticketnummer lautet {order}.", "Mit freundlichen Grüßen, Kundenservice"],
    "it": ["Grazie per averci contattato.", "Abbiamo ricevuto la sua richiesta e le risponderemo a breve.", "Potrebbe inviarci maggiori dettagli?", "Il numero della sua pratica è {order}.", "Cordiali saluti, Servizio clienti"],
}

# Lines mail and chat clients add under a message.
CLIENT_FOOTERS: dict[str, list[str]] = {
    "en": ["Sent from my iPhone", "Sent from my Android phone", "Get Outlook for iOS"],
    "es": ["Enviado desde mi iPhone", "Enviado desde mi teléfono Android", "Obtener Outlook para iOS"],
    "pt": ["Enviado do meu iPhone", "Enviado do meu celular Android", "Obter o Outlook para iOS"],
    "fr": ["Envoyé de mon iPhone", "Envoyé depuis mon téléphone Android", "Obtenir Outlook pour iOS"],
    "de": ["Von meinem iPhone gesendet", "Von meinem Android-Telefon gesendet", "Outlook für iOS herunterladen"],
    "it": ["Inviato da iPhone", "Inviato dal mio telefono Android", "Scarica Outlook per iOS"],
}
