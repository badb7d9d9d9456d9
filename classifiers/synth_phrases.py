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
