# ruff: noqa: E501  (one phrase per line reads better than wrapped strings)
# fmt: off
"""What customers ask, per language, category and tier: the generator's requests.

``REQUESTS[language][(category, tier)]`` holds ``(subject, body)`` pairs. Bodies
may use ``{order}``, ``{amount}``, ``{product}``, ``{date}`` and ``{days}``;
tier1 is what a first-line agent settles with a macro (status, how-to, simple
change), tier2 needs investigation or authority (faults, disputes, security).
"""

from __future__ import annotations

Cell = tuple[str, str]

REQUESTS: dict[str, dict[tuple[str, str], list[Cell]]] = {
    "en": {
        ("billing", "tier1"): [
            ("Invoice copy", "Could you send me a copy of the invoice for order {order}? I need it for my accounting."),
            ("Change payment method", "How do I update the credit card on my account? The old one expires next month."),
            ("Question about my bill", "I see a charge of {amount} on my statement and would like to know what it is for."),
        ],
        ("billing", "tier2"): [
            ("Charged twice", "I was charged twice for order {order}, {amount} each time. Please refund the duplicate payment."),
            ("Refund not received", "You promised a refund of {amount} {days} days ago and it still has not arrived. I am considering a chargeback."),
            ("Wrong VAT on invoices", "All invoices since {date} show the wrong VAT rate. Our auditors need corrected invoices."),
        ],
        ("account", "tier1"): [
            ("Password reset", "I forgot my password and the reset link does not arrive. Can you send it again?"),
            ("Change email address", "Please change the email address on my account, I no longer use the old one."),
            ("Update my address", "I moved. How can I change the billing address in my profile?"),
        ],
        ("account", "tier2"): [
            ("Account hacked", "Someone logged into my account from another country and changed my password. I think my account was hacked."),
            ("Delete my data", "Under GDPR I request the deletion of all personal data you hold about me, including backups."),
            ("Account locked", "My business account has been locked for {days} days without explanation and my team cannot work."),
        ],
        ("technical", "tier1"): [
            ("How to export", "How do I export my reports to Excel? I cannot find the button."),
            ("App login question", "Where do I find the settings to turn on notifications in the app?"),
            ("Setup help", "I just bought the {product}. How do I connect it to my wifi?"),
        ],
        ("technical", "tier2"): [
            ("App keeps crashing", "Since the last update the app crashes every time I open it. I reinstalled it twice and cleared the cache, nothing helps."),
            ("API returns errors", "Your API returns error 500 on every request since {date}. Our integration is down and orders are piling up."),
            ("Device stopped working", "My {product} does not turn on anymore after the firmware update. The light blinks red and a reset does not help."),
        ],
        ("shipping", "tier1"): [
            ("Where is my order?", "When will order {order} arrive? The tracking page has not changed for two days."),
            ("Tracking number", "Can you send me the tracking number for order {order}?"),
            ("Delivery address", "Can I still change the delivery address for order {order}?"),
        ],
        ("shipping", "tier2"): [
            ("Package lost", "The tracking says order {order} was delivered but I never received it. The courier claims they left it at the door."),
            ("Damaged delivery", "The {product} arrived broken, the box was crushed. I need a replacement and the courier must be told."),
            ("Customs problem", "Order {order} is stuck at customs for {days} days and they ask for documents I do not have."),
        ],
        ("feedback", "tier1"): [
            ("Great service", "I just wanted to say your agent was very helpful yesterday. Great service!"),
            ("Suggestion", "It would be nice if the app had a dark mode. Just a suggestion."),
            ("Thank you", "Thanks for the quick delivery, the {product} works perfectly."),
        ],
        ("feedback", "tier2"): [
            ("Formal complaint", "I want to file a formal complaint about the way your staff treated me in the store on {date}."),
            ("Very disappointed", "This is the third time my order is late. I have been a customer for years and I am very disappointed; I expect compensation."),
        ],
        ("other", "tier1"): [
            ("Opening hours", "What are your opening hours during the holidays?"),
            ("Do you ship abroad?", "Do you also deliver to other countries? I would like to buy a gift for a friend."),
            ("Question", "Do you have a store near me where I can see the {product}?"),
        ],
        ("other", "tier2"): [
            ("Partnership request", "We are a distributor and would like to discuss a partnership and volume pricing with your sales team."),
            ("Legal notice", "Our lawyer will contact you regarding the contract we signed on {date}. Please tell me who is responsible."),
        ],
    },
    "es": {
        ("billing", "tier1"): [
            ("Copia de factura", "¿Me pueden enviar una copia de la factura del pedido {order}? La necesito para mi contabilidad."),
            ("Cambiar forma de pago", "¿Cómo actualizo la tarjeta de crédito de mi cuenta? La anterior caduca el mes que viene."),
            ("Duda sobre un cargo", "Veo un cargo de {amount} en mi extracto y quisiera saber a qué corresponde."),
        ],
        ("billing", "tier2"): [
            ("Cobro duplicado", "Me cobraron dos veces el pedido {order}, {amount} cada vez. Por favor devuélvanme el pago duplicado."),
            ("No he recibido el reembolso", "Hace {days} días me prometieron un reembolso de {amount} y todavía no ha llegado. Estoy pensando en reclamar al banco."),
            ("IVA incorrecto", "Todas las facturas desde el {date} tienen el IVA equivocado. Nuestros auditores necesitan facturas rectificativas."),
        ],
        ("account", "tier1"): [
            ("Restablecer contraseña", "Olvidé mi contraseña y no me llega el enlace para restablecerla. ¿Pueden enviarlo de nuevo?"),
            ("Cambiar correo", "Por favor cambien el correo electrónico de mi cuenta, ya no uso el anterior."),
            ("Actualizar dirección", "Me he mudado. ¿Cómo cambio la dirección de facturación en mi perfil?"),
        ],
        ("account", "tier2"): [
            ("Cuenta hackeada", "Alguien entró en mi cuenta desde otro país y cambió la contraseña. Creo que me han hackeado la cuenta."),
            ("Borrar mis datos", "Según el RGPD solicito la eliminación de todos mis datos personales, incluidas las copias de seguridad."),
            ("Cuenta bloqueada", "Mi cuenta de empresa lleva {days} días bloqueada sin explicación y mi equipo no puede trabajar."),
        ],
        ("technical", "tier1"): [
            ("Cómo exportar", "¿Cómo exporto mis informes a Excel? No encuentro el botón."),
            ("Notificaciones", "¿Dónde están los ajustes para activar las notificaciones en la aplicación?"),
            ("Ayuda con la instalación", "Acabo de comprar el {product}. ¿Cómo lo conecto a mi wifi?"),
        ],
        ("technical", "tier2"): [
            ("La aplicación se cierra", "Desde la última actualización la aplicación se cierra cada vez que la abro. La reinstalé dos veces y borré la caché, nada funciona."),
            ("Errores en la API", "Su API devuelve error 500 en todas las peticiones desde el {date}. Nuestra integración está caída y se acumulan los pedidos."),
            ("El dispositivo no funciona", "Mi {product} ya no enciende después de la actualización del firmware. La luz parpadea en rojo y reiniciarlo no ayuda."),
        ],
        ("shipping", "tier1"): [
            ("¿Dónde está mi pedido?", "¿Cuándo llegará el pedido {order}? El seguimiento no ha cambiado en dos días."),
            ("Número de seguimiento", "¿Me pueden enviar el número de seguimiento del pedido {order}?"),
            ("Dirección de entrega", "¿Todavía puedo cambiar la dirección de entrega del pedido {order}?"),
        ],
        ("shipping", "tier2"): [
            ("Paquete perdido", "El seguimiento dice que el pedido {order} fue entregado pero nunca lo recibí. El mensajero dice que lo dejó en la puerta."),
            ("Entrega dañada", "El {product} llegó roto, la caja estaba aplastada. Necesito un reemplazo y que se avise a la empresa de transporte."),
            ("Problema en aduanas", "El pedido {order} lleva {days} días retenido en aduanas y me piden documentos que no tengo."),
        ],
        ("feedback", "tier1"): [
            ("Excelente servicio", "Solo quería decir que su agente me ayudó mucho ayer. ¡Excelente servicio!"),
            ("Sugerencia", "Estaría bien que la aplicación tuviera modo oscuro. Es solo una sugerencia."),
            ("Gracias", "Gracias por la entrega tan rápida, el {product} funciona perfectamente."),
        ],
        ("feedback", "tier2"): [
            ("Queja formal", "Quiero presentar una queja formal por el trato que recibí de su personal en la tienda el {date}."),
            ("Muy decepcionado", "Es la tercera vez que mi pedido llega tarde. Soy cliente desde hace años y estoy muy decepcionado; espero una compensación."),
        ],
        ("other", "tier1"): [
            ("Horario", "¿Cuál es su horario de apertura durante las fiestas?"),
            ("¿Envían al extranjero?", "¿También envían a otros países? Quiero comprar un regalo para una amiga."),
            ("Pregunta", "¿Tienen una tienda cerca donde pueda ver el {product}?"),
        ],
        ("other", "tier2"): [
            ("Propuesta de colaboración", "Somos distribuidores y nos gustaría hablar con su equipo comercial sobre una colaboración y precios por volumen."),
            ("Aviso legal", "Nuestro abogado se pondrá en contacto con ustedes por el contrato firmado el {date}. Indíquenme quién es el responsable."),
        ],
    },
    "pt": {
        ("billing", "tier1"): [
            ("Segunda via da fatura", "Vocês podem me enviar a segunda via da fatura do pedido {order}? Preciso para a contabilidade."),
            ("Mudar forma de pagamento", "Como atualizo o cartão de crédito da minha conta? O antigo vence no mês que vem."),
            ("Dúvida sobre cobrança", "Vi uma cobrança de {amount} no meu extrato e gostaria de saber a que se refere."),
        ],
        ("billing", "tier2"): [
            ("Cobrança em dobro", "Fui cobrado duas vezes pelo pedido {order}, {amount} cada vez. Por favor estornem o pagamento duplicado."),
            ("Reembolso não recebido", "Prometeram um reembolso de {amount} há {days} dias e até agora nada. Vou abrir uma contestação no banco."),
            ("Imposto errado", "Todas as notas fiscais desde {date} estão com o imposto errado. Nossos auditores precisam das notas corrigidas."),
        ],
        ("account", "tier1"): [
            ("Redefinir senha", "Esqueci minha senha e o link de redefinição não chega. Podem enviar de novo?"),
            ("Trocar e-mail", "Por favor troquem o e-mail da minha conta, não uso mais o antigo."),
            ("Atualizar endereço", "Mudei de casa. Como altero o endereço de cobrança no meu perfil?"),
        ],
        ("account", "tier2"): [
            ("Conta invadida", "Alguém entrou na minha conta de outro país e mudou a senha. Acho que minha conta foi invadida."),
            ("Excluir meus dados", "De acordo com a LGPD, solicito a exclusão de todos os meus dados pessoais, inclusive dos backups."),
            ("Conta bloqueada", "Minha conta empresarial está bloqueada há {days} dias sem explicação e minha equipe não consegue trabalhar."),
        ],
        ("technical", "tier1"): [
            ("Como exportar", "Como exporto meus relatórios para o Excel? Não encontro o botão."),
            ("Notificações", "Onde ficam as configurações para ativar as notificações no aplicativo?"),
            ("Ajuda na instalação", "Acabei de comprar o {product}. Como conecto ele ao wifi?"),
        ],
        ("technical", "tier2"): [
            ("Aplicativo travando", "Desde a última atualização o aplicativo fecha sozinho toda vez que eu abro. Já reinstalei duas vezes e limpei o cache, nada resolve."),
            ("Erros na API", "A API de vocês retorna erro 500 em todas as requisições desde {date}. Nossa integração está fora do ar e os pedidos estão acumulando."),
            ("Aparelho parou", "Meu {product} não liga mais depois da atualização de firmware. A luz pisca vermelha e reiniciar não adianta."),
        ],
        ("shipping", "tier1"): [
            ("Cadê meu pedido?", "Quando chega o pedido {order}? O rastreamento não muda há dois dias."),
            ("Código de rastreio", "Podem me enviar o código de rastreio do pedido {order}?"),
            ("Endereço de entrega", "Ainda posso mudar o endereço de entrega do pedido {order}?"),
        ],
        ("shipping", "tier2"): [
            ("Pacote extraviado", "O rastreamento diz que o pedido {order} foi entregue mas eu nunca recebi. A transportadora diz que deixou na porta."),
            ("Produto chegou quebrado", "O {product} chegou quebrado, a caixa estava amassada. Preciso de uma troca e que a transportadora seja avisada."),
            ("Retido na alfândega", "O pedido {order} está retido na alfândega há {days} dias e pedem documentos que eu não tenho."),
        ],
        ("feedback", "tier1"): [
            ("Ótimo atendimento", "Só queria dizer que a atendente me ajudou muito ontem. Ótimo atendimento!"),
            ("Sugestão", "Seria legal se o aplicativo tivesse modo escuro. É só uma sugestão."),
            ("Obrigado", "Obrigado pela entrega rápida, o {product} funciona perfeitamente."),
        ],
        ("feedback", "tier2"): [
            ("Reclamação formal", "Quero registrar uma reclamação formal sobre como fui tratado pelos funcionários na loja no dia {date}."),
            ("Muito decepcionado", "É a terceira vez que meu pedido atrasa. Sou cliente há anos e estou muito decepcionado; espero uma compensação."),
        ],
        ("other", "tier1"): [
            ("Horário de funcionamento", "Qual é o horário de funcionamento durante os feriados?"),
            ("Entregam no exterior?", "Vocês entregam em outros países? Quero comprar um presente para uma amiga."),
            ("Pergunta", "Vocês têm uma loja perto de mim onde eu possa ver o {product}?"),
        ],
        ("other", "tier2"): [
            ("Proposta de parceria", "Somos distribuidores e gostaríamos de conversar com a equipe comercial sobre parceria e preços por volume."),
            ("Notificação jurídica", "Nosso advogado vai entrar em contato sobre o contrato assinado em {date}. Informem quem é o responsável."),
        ],
    },
    "fr": {
        ("billing", "tier1"): [
            ("Copie de facture", "Pourriez-vous m'envoyer une copie de la facture de la commande {order} ? J'en ai besoin pour ma comptabilité."),
            ("Changer de moyen de paiement", "Comment mettre à jour la carte bancaire de mon compte ? L'ancienne expire le mois prochain."),
            ("Question sur un prélèvement", "Je vois un prélèvement de {amount} sur mon relevé et j'aimerais savoir à quoi il correspond."),
        ],
        ("billing", "tier2"): [
            ("Double prélèvement", "J'ai été débité deux fois pour la commande {order}, {amount} à chaque fois. Merci de rembourser le paiement en double."),
            ("Remboursement non reçu", "Vous m'avez promis un remboursement de {amount} il y a {days} jours et je n'ai toujours rien reçu. Je vais contester auprès de ma banque."),
            ("TVA erronée", "Toutes les factures depuis le {date} ont un taux de TVA erroné. Nos auditeurs ont besoin de factures rectifiées."),
        ],
        ("account", "tier1"): [
            ("Mot de passe oublié", "J'ai oublié mon mot de passe et le lien de réinitialisation n'arrive pas. Pouvez-vous le renvoyer ?"),
            ("Changer d'adresse e-mail", "Merci de changer l'adresse e-mail de mon compte, je n'utilise plus l'ancienne."),
            ("Mettre à jour mon adresse", "J'ai déménagé. Comment modifier l'adresse de facturation dans mon profil ?"),
        ],
        ("account", "tier2"): [
            ("Compte piraté", "Quelqu'un s'est connecté à mon compte depuis un autre pays et a changé mon mot de passe. Je pense que mon compte a été piraté."),
            ("Supprimer mes données", "Conformément au RGPD, je demande la suppression de toutes mes données personnelles, sauvegardes comprises."),
            ("Compte bloqué", "Mon compte professionnel est bloqué depuis {days} jours sans explication et mon équipe ne peut plus travailler."),
        ],
        ("technical", "tier1"): [
            ("Comment exporter", "Comment exporter mes rapports vers Excel ? Je ne trouve pas le bouton."),
            ("Notifications", "Où se trouvent les réglages pour activer les notifications dans l'application ?"),
            ("Aide à l'installation", "Je viens d'acheter le {product}. Comment le connecter à mon wifi ?"),
        ],
        ("technical", "tier2"): [
            ("L'application plante", "Depuis la dernière mise à jour l'application plante à chaque ouverture. Je l'ai réinstallée deux fois et vidé le cache, rien n'y fait."),
            ("Erreurs de l'API", "Votre API renvoie une erreur 500 à chaque requête depuis le {date}. Notre intégration est en panne et les commandes s'accumulent."),
            ("L'appareil ne marche plus", "Mon {product} ne s'allume plus depuis la mise à jour du firmware. Le voyant clignote en rouge et la réinitialisation ne sert à rien."),
        ],
        ("shipping", "tier1"): [
            ("Où est ma commande ?", "Quand la commande {order} va-t-elle arriver ? Le suivi n'a pas bougé depuis deux jours."),
            ("Numéro de suivi", "Pouvez-vous m'envoyer le numéro de suivi de la commande {order} ?"),
            ("Adresse de livraison", "Puis-je encore modifier l'adresse de livraison de la commande {order} ?"),
        ],
        ("shipping", "tier2"): [
            ("Colis perdu", "Le suivi indique que la commande {order} a été livrée mais je ne l'ai jamais reçue. Le livreur dit l'avoir laissée devant la porte."),
            ("Livraison endommagée", "Le {product} est arrivé cassé, le carton était écrasé. J'ai besoin d'un remplacement et le transporteur doit être prévenu."),
            ("Bloqué en douane", "La commande {order} est bloquée en douane depuis {days} jours et on me demande des documents que je n'ai pas."),
        ],
        ("feedback", "tier1"): [
            ("Super service", "Je voulais simplement dire que votre conseiller m'a beaucoup aidé hier. Super service !"),
            ("Suggestion", "Ce serait bien que l'application ait un mode sombre. Ce n'est qu'une suggestion."),
            ("Merci", "Merci pour la livraison rapide, le {product} fonctionne parfaitement."),
        ],
        ("feedback", "tier2"): [
            ("Réclamation officielle", "Je souhaite déposer une réclamation officielle concernant l'accueil de votre personnel en magasin le {date}."),
            ("Très déçu", "C'est la troisième fois que ma commande est en retard. Je suis client depuis des années et je suis très déçu ; j'attends un geste commercial."),
        ],
        ("other", "tier1"): [
            ("Horaires d'ouverture", "Quels sont vos horaires d'ouverture pendant les fêtes ?"),
            ("Livrez-vous à l'étranger ?", "Livrez-vous aussi dans d'autres pays ? Je voudrais offrir un cadeau à une amie."),
            ("Question", "Avez-vous un magasin près de chez moi où je peux voir le {product} ?"),
        ],
        ("other", "tier2"): [
            ("Proposition de partenariat", "Nous sommes distributeurs et souhaitons discuter d'un partenariat et de tarifs par volume avec votre équipe commerciale."),
            ("Mise en demeure", "Notre avocat va vous contacter au sujet du contrat signé le {date}. Merci de m'indiquer qui est responsable."),
        ],
    },
    "de": {
        ("billing", "tier1"): [
            ("Rechnungskopie", "Können Sie mir eine Kopie der Rechnung für Bestellung {order} schicken? Ich brauche sie für die Buchhaltung."),
            ("Zahlungsart ändern", "Wie aktualisiere ich die Kreditkarte in meinem Konto? Die alte läuft nächsten Monat ab."),
            ("Frage zur Abbuchung", "Auf meinem Kontoauszug sehe ich eine Abbuchung von {amount} und möchte wissen, wofür sie ist."),
        ],
        ("billing", "tier2"): [
            ("Doppelt abgebucht", "Für Bestellung {order} wurde zweimal abgebucht, jeweils {amount}. Bitte erstatten Sie die doppelte Zahlung."),
            ("Erstattung nicht erhalten", "Sie haben mir vor {days} Tagen eine Erstattung von {amount} zugesagt, sie ist immer noch nicht da. Ich überlege, die Zahlung bei der Bank zurückzubuchen."),
            ("Falsche Mehrwertsteuer", "Alle Rechnungen seit dem {date} weisen den falschen Mehrwertsteuersatz aus. Unsere Prüfer brauchen korrigierte Rechnungen."),
        ],
        ("account", "tier1"): [
            ("Passwort zurücksetzen", "Ich habe mein Passwort vergessen und der Link zum Zurücksetzen kommt nicht an. Können Sie ihn erneut senden?"),
            ("E-Mail-Adresse ändern", "Bitte ändern Sie die E-Mail-Adresse meines Kontos, die alte nutze ich nicht mehr."),
            ("Adresse aktualisieren", "Ich bin umgezogen. Wie ändere ich die Rechnungsadresse in meinem Profil?"),
        ],
        ("account", "tier2"): [
            ("Konto gehackt", "Jemand hat sich aus dem Ausland in mein Konto eingeloggt und das Passwort geändert. Ich glaube, mein Konto wurde gehackt."),
            ("Daten löschen", "Gemäß DSGVO verlange ich die Löschung aller meiner personenbezogenen Daten, einschließlich der Backups."),
            ("Konto gesperrt", "Unser Firmenkonto ist seit {days} Tagen ohne Begründung gesperrt und mein Team kann nicht arbeiten."),
        ],
        ("technical", "tier1"): [
            ("Export nach Excel", "Wie exportiere ich meine Berichte nach Excel? Ich finde den Knopf nicht."),
            ("Benachrichtigungen", "Wo finde ich die Einstellungen, um Benachrichtigungen in der App einzuschalten?"),
            ("Hilfe bei der Einrichtung", "Ich habe gerade den {product} gekauft. Wie verbinde ich ihn mit meinem WLAN?"),
        ],
        ("technical", "tier2"): [
            ("App stürzt ständig ab", "Seit dem letzten Update stürzt die App bei jedem Öffnen ab. Ich habe sie zweimal neu installiert und den Cache geleert, nichts hilft."),
            ("Fehler in der API", "Ihre API liefert seit dem {date} bei jeder Anfrage Fehler 500. Unsere Anbindung ist ausgefallen und die Bestellungen stauen sich."),
            ("Gerät funktioniert nicht mehr", "Mein {product} lässt sich nach dem Firmware-Update nicht mehr einschalten. Die Lampe blinkt rot und ein Reset hilft nicht."),
        ],
        ("shipping", "tier1"): [
            ("Wo ist meine Bestellung?", "Wann kommt Bestellung {order} an? Die Sendungsverfolgung hat sich seit zwei Tagen nicht geändert."),
            ("Sendungsnummer", "Können Sie mir die Sendungsnummer für Bestellung {order} schicken?"),
            ("Lieferadresse", "Kann ich die Lieferadresse für Bestellung {order} noch ändern?"),
        ],
        ("shipping", "tier2"): [
            ("Paket verloren", "Laut Sendungsverfolgung wurde Bestellung {order} zugestellt, aber ich habe nichts erhalten. Der Bote behauptet, er habe es vor die Tür gelegt."),
            ("Beschädigte Lieferung", "Der {product} kam kaputt an, der Karton war eingedrückt. Ich brauche Ersatz und der Paketdienst muss informiert werden."),
            ("Problem beim Zoll", "Bestellung {order} hängt seit {days} Tagen beim Zoll fest und man verlangt Unterlagen, die ich nicht habe."),
        ],
        ("feedback", "tier1"): [
            ("Toller Service", "Ich wollte nur sagen, dass mir Ihr Mitarbeiter gestern sehr geholfen hat. Toller Service!"),
            ("Vorschlag", "Es wäre schön, wenn die App einen dunklen Modus hätte. Nur ein Vorschlag."),
            ("Danke", "Danke für die schnelle Lieferung, der {product} funktioniert einwandfrei."),
        ],
        ("feedback", "tier2"): [
            ("Offizielle Beschwerde", "Ich möchte mich offiziell darüber beschweren, wie mich Ihre Mitarbeiter am {date} im Geschäft behandelt haben."),
            ("Sehr enttäuscht", "Zum dritten Mal kommt meine Bestellung zu spät. Ich bin seit Jahren Kunde und sehr enttäuscht; ich erwarte eine Entschädigung."),
        ],
        ("other", "tier1"): [
            ("Öffnungszeiten", "Wie sind Ihre Öffnungszeiten über die Feiertage?"),
            ("Liefern Sie ins Ausland?", "Liefern Sie auch in andere Länder? Ich möchte einer Freundin ein Geschenk schicken."),
            ("Frage", "Haben Sie ein Geschäft in meiner Nähe, in dem ich mir den {product} ansehen kann?"),
        ],
        ("other", "tier2"): [
            ("Anfrage Partnerschaft", "Wir sind ein Großhändler und möchten mit Ihrem Vertrieb über eine Partnerschaft und Mengenrabatte sprechen."),
            ("Rechtliche Mitteilung", "Unser Anwalt wird sich wegen des am {date} unterschriebenen Vertrags bei Ihnen melden. Bitte nennen Sie mir die zuständige Person."),
        ],
    },
    "it": {
        ("billing", "tier1"): [
            ("Copia della fattura", "Potete inviarmi una copia della fattura dell'ordine {order}? Mi serve per la contabilità."),
            ("Cambiare metodo di pagamento", "Come aggiorno la carta di credito del mio account? Quella vecchia scade il mese prossimo."),
            ("Domanda su un addebito", "Vedo un addebito di {amount} sull'estratto conto e vorrei sapere a cosa si riferisce."),
        ],
        ("billing", "tier2"): [
            ("Addebito doppio", "Mi avete addebitato due volte l'ordine {order}, {amount} ogni volta. Vi prego di rimborsare il pagamento doppio."),
            ("Rimborso non ricevuto", "Mi avete promesso un rimborso di {amount} {days} giorni fa e non è ancora arrivato. Sto pensando di contestare l'addebito in banca."),
            ("IVA sbagliata", "Tutte le fatture dal {date} riportano l'aliquota IVA sbagliata. I nostri revisori hanno bisogno di note di credito corrette."),
        ],
        ("account", "tier1"): [
            ("Reimpostare la password", "Ho dimenticato la password e il link per reimpostarla non arriva. Potete inviarlo di nuovo?"),
            ("Cambiare email", "Per favore cambiate l'indirizzo email del mio account, non uso più quello vecchio."),
            ("Aggiornare l'indirizzo", "Mi sono trasferito. Come cambio l'indirizzo di fatturazione nel mio profilo?"),
        ],
        ("account", "tier2"): [
            ("Account violato", "Qualcuno è entrato nel mio account da un altro paese e ha cambiato la password. Credo che il mio account sia stato violato."),
            ("Cancellare i miei dati", "Ai sensi del GDPR chiedo la cancellazione di tutti i miei dati personali, compresi i backup."),
            ("Account bloccato", "Il nostro account aziendale è bloccato da {days} giorni senza spiegazioni e il mio team non può lavorare."),
        ],
        ("technical", "tier1"): [
            ("Come esportare", "Come esporto i miei report in Excel? Non trovo il pulsante."),
            ("Notifiche", "Dove sono le impostazioni per attivare le notifiche nell'app?"),
            ("Aiuto con l'installazione", "Ho appena comprato il {product}. Come lo collego al wifi?"),
        ],
        ("technical", "tier2"): [
            ("L'app si chiude", "Dall'ultimo aggiornamento l'app si chiude ogni volta che la apro. L'ho reinstallata due volte e ho svuotato la cache, niente da fare."),
            ("Errori nelle API", "Le vostre API restituiscono errore 500 a ogni richiesta dal {date}. La nostra integrazione è ferma e gli ordini si accumulano."),
            ("Il dispositivo non funziona", "Il mio {product} non si accende più dopo l'aggiornamento del firmware. La spia lampeggia rossa e il reset non serve."),
        ],
        ("shipping", "tier1"): [
            ("Dov'è il mio ordine?", "Quando arriverà l'ordine {order}? Il tracciamento non cambia da due giorni."),
            ("Numero di tracciamento", "Potete inviarmi il numero di tracciamento dell'ordine {order}?"),
            ("Indirizzo di consegna", "Posso ancora cambiare l'indirizzo di consegna dell'ordine {order}?"),
        ],
        ("shipping", "tier2"): [
            ("Pacco smarrito", "Il tracciamento dice che l'ordine {order} è stato consegnato ma non l'ho mai ricevuto. Il corriere sostiene di averlo lasciato davanti alla porta."),
            ("Consegna danneggiata", "Il {product} è arrivato rotto, la scatola era schiacciata. Ho bisogno di una sostituzione e il corriere va avvisato."),
            ("Fermo in dogana", "L'ordine {order} è fermo in dogana da {days} giorni e mi chiedono documenti che non ho."),
        ],
        ("feedback", "tier1"): [
            ("Ottimo servizio", "Volevo solo dire che il vostro operatore ieri mi ha aiutato molto. Ottimo servizio!"),
            ("Suggerimento", "Sarebbe bello se l'app avesse la modalità scura. È solo un suggerimento."),
            ("Grazie", "Grazie per la consegna rapida, il {product} funziona perfettamente."),
        ],
        ("feedback", "tier2"): [
            ("Reclamo formale", "Voglio presentare un reclamo formale per come sono stato trattato dal vostro personale in negozio il {date}."),
            ("Molto deluso", "È la terza volta che il mio ordine arriva in ritardo. Sono cliente da anni e sono molto deluso; mi aspetto un risarcimento."),
        ],
        ("other", "tier1"): [
            ("Orari di apertura", "Quali sono i vostri orari di apertura durante le feste?"),
            ("Spedite all'estero?", "Spedite anche in altri paesi? Vorrei comprare un regalo per un'amica."),
            ("Domanda", "Avete un negozio vicino a me dove posso vedere il {product}?"),
        ],
        ("other", "tier2"): [
            ("Proposta di collaborazione", "Siamo distributori e vorremmo parlare con il vostro ufficio commerciale di una collaborazione e di prezzi per volumi."),
            ("Diffida legale", "Il nostro avvocato vi contatterà in merito al contratto firmato il {date}. Indicatemi chi è il responsabile."),
        ],
    },
}
