# fmt: off
"""Hand-written full sentences for the hard language pairs: Malay vs Indonesian, plus
Catalan (against Spanish) and Urdu (against Persian, Arabic and Hindi).

Support-ticket language and everyday prose, written for this benchmark (not taken
from any corpus). Malay is Malaysian usage (``tidak``/``tak``, ``boleh``,
``kerana``, ``sahaja``, ``wang``, ``kereta``, ``bahawa``, ``daripada``);
Indonesian is Indonesia's (``tidak``/``nggak``, ``bisa``, ``karena``, ``saja``,
``uang``, ``mobil``, ``bahwa``, ``dari``). :func:`sentence_texts` joins one to
three of them into a text.
"""

from __future__ import annotations

import random

SENTENCES: dict[str, list[str]] = {
    "ms": [
        "Saya tidak boleh log masuk ke akaun saya sejak semalam.",
        "Kata laluan saya telah ditukar tanpa pengetahuan saya.",
        "Tolong hantar semula pautan untuk menetapkan semula kata laluan.",
        "Saya telah membuat bayaran dua kali untuk pesanan yang sama.",
        "Wang saya masih belum dikembalikan walaupun sudah dua minggu.",
        "Bungkusan saya tidak sampai lagi dan nombor penjejakan tidak berubah.",
        "Kereta saya rosak di tepi jalan, boleh hantar orang untuk membantu?",
        "Aplikasi ini asyik tertutup sendiri setiap kali saya membukanya.",
        "Saya nak tukar alamat penghantaran kerana saya sudah berpindah rumah.",
        "Bolehkah anda semak status pesanan saya, terima kasih.",
        "Saya hanya mahu tahu bila barang ini akan dihantar.",
        "Kerajaan telah mengumumkan cuti umum pada hari Isnin depan.",
        "Beliau berkata bahawa projek itu akan siap pada bulan hadapan.",
        "Kami amat kecewa dengan perkhidmatan pelanggan syarikat anda.",
        "Saya sudah cuba menghubungi pejabat anda tetapi tiada siapa yang menjawab.",
        "Harga yang dikenakan berbeza daripada harga yang tertera di laman web.",
        "Sila batalkan langganan saya dengan serta-merta.",
        "Saya cuma nak minta salinan invois untuk bulan lepas sahaja.",
        "Telefon bimbit yang saya beli tidak boleh dicas langsung.",
        "Mengapa akaun saya disekat tanpa sebarang penjelasan?",
        "Anak saya tak sihat, jadi saya tak dapat datang ke pejabat hari ini.",
        "Kedai itu dibuka setiap hari kecuali pada hari Jumaat.",
        "Penghantaran ke Sabah dan Sarawak mengambil masa lebih lama.",
        "Saya ingin membuat aduan rasmi mengenai pekerja di cawangan Petaling Jaya.",
        "Duit dalam dompet elektronik saya hilang selepas kemas kini terakhir.",
        "Terima kasih atas bantuan anda, masalah saya sudah selesai.",
        "Boleh saya tahu berapa lama lagi saya perlu menunggu?",
        "Pihak bank memaklumkan bahawa urus niaga itu telah berjaya.",
        "Saya berasa amat marah kerana pesanan saya dibatalkan begitu sahaja.",
        "Tolong beritahu saya cara untuk mengemas kini maklumat peribadi.",
    ],
    "id": [
        "Saya tidak bisa masuk ke akun saya sejak kemarin.",
        "Kata sandi saya sudah diganti tanpa sepengetahuan saya.",
        "Tolong kirim ulang tautan untuk mengatur ulang kata sandi.",
        "Saya sudah membayar dua kali untuk pesanan yang sama.",
        "Uang saya belum dikembalikan padahal sudah dua minggu.",
        "Paket saya belum sampai dan nomor resinya tidak berubah.",
        "Mobil saya mogok di pinggir jalan, bisa kirim orang untuk membantu?",
        "Aplikasinya terus menutup sendiri setiap kali saya buka.",
        "Saya mau ganti alamat pengiriman karena saya sudah pindah rumah.",
        "Bisakah Anda cek status pesanan saya, terima kasih.",
        "Saya hanya ingin tahu kapan barang ini akan dikirim.",
        "Pemerintah sudah mengumumkan libur nasional pada hari Senin depan.",
        "Dia mengatakan bahwa proyek itu akan selesai bulan depan.",
        "Kami sangat kecewa dengan layanan pelanggan perusahaan Anda.",
        "Saya sudah mencoba menghubungi kantor Anda tetapi tidak ada yang menjawab.",
        "Harga yang dikenakan berbeda dari harga yang tertera di situs web.",
        "Tolong batalkan langganan saya sekarang juga.",
        "Saya cuma mau minta salinan faktur untuk bulan lalu saja.",
        "Ponsel yang saya beli sama sekali tidak bisa diisi daya.",
        "Kenapa akun saya diblokir tanpa penjelasan apa pun?",
        "Anak saya sakit, jadi saya nggak bisa datang ke kantor hari ini.",
        "Toko itu buka setiap hari kecuali hari Jumat.",
        "Pengiriman ke Papua dan Maluku memakan waktu lebih lama.",
        "Saya ingin mengajukan keluhan resmi tentang karyawan di cabang Bandung.",
        "Saldo di dompet digital saya hilang setelah pembaruan terakhir.",
        "Terima kasih atas bantuannya, masalah saya sudah beres.",
        "Boleh saya tahu berapa lama lagi saya harus menunggu?",
        "Pihak bank memberi tahu bahwa transaksi tersebut berhasil.",
        "Saya sangat marah karena pesanan saya dibatalkan begitu saja.",
        "Tolong beri tahu saya cara memperbarui data pribadi.",
    ],
    "ca": [
        "No puc entrar al meu compte des d'ahir a la tarda.",
        "M'han cobrat dues vegades la mateixa comanda.",
        "Encara no he rebut el paquet i el número de seguiment no canvia.",
        "Si us plau, envieu-me una còpia de la factura del mes passat.",
        "L'aplicació es tanca cada vegada que l'obro al mòbil.",
        "Voldria canviar l'adreça d'enviament perquè m'he mudat.",
        "Quan arribarà la meva comanda? Fa una setmana que l'espero.",
        "Estic molt decebut amb el servei d'atenció al client.",
        "He intentat trucar a l'oficina però ningú no respon.",
        "El preu que m'han cobrat és diferent del que surt a la web.",
        "Podeu cancel·lar la meva subscripció avui mateix, si us plau?",
        "La botiga obre cada dia excepte els diumenges.",
        "Moltes gràcies per l'ajuda, el problema ja està resolt.",
        "Vull presentar una queixa formal sobre el tracte que vaig rebre.",
        "El meu fill està malalt i avui no podré anar a treballar.",
        "Han bloquejat el meu compte sense cap explicació.",
        "Necessito que em retorneu els diners tan aviat com sigui possible.",
        "El dispositiu no s'encén des de l'última actualització.",
        "Quant de temps més hauré d'esperar?",
        "Digueu-me com puc actualitzar les meves dades personals.",
    ],
    "ur": [
        "میں کل سے اپنے اکاؤنٹ میں لاگ ان نہیں کر پا رہا ہوں۔",
        "میرے کارڈ سے ایک ہی آرڈر کے لیے دو بار رقم کاٹی گئی ہے۔",
        "میرا پارسل ابھی تک نہیں پہنچا اور ٹریکنگ نمبر بھی تبدیل نہیں ہوا۔",
        "براہ کرم مجھے پچھلے مہینے کی رسید کی کاپی بھیج دیں۔",
        "یہ ایپ ہر بار کھولنے پر خود بخود بند ہو جاتی ہے۔",
        "میں ترسیل کا پتہ تبدیل کرنا چاہتا ہوں کیونکہ میں نے گھر بدل لیا ہے۔",
        "میرا آرڈر کب تک پہنچے گا؟ میں ایک ہفتے سے انتظار کر رہا ہوں۔",
        "میں آپ کی کمپنی کی کسٹمر سروس سے بہت مایوس ہوں۔",
        "میں نے آپ کے دفتر فون کرنے کی کوشش کی لیکن کسی نے جواب نہیں دیا۔",
        "جو قیمت مجھ سے لی گئی وہ ویب سائٹ پر لکھی قیمت سے مختلف ہے۔",
        "براہ مہربانی میری رکنیت فوری طور پر منسوخ کر دیں۔",
        "دکان جمعہ کے علاوہ ہر روز کھلی رہتی ہے۔",
        "آپ کی مدد کا بہت شکریہ، میرا مسئلہ حل ہو گیا ہے۔",
        "میں آپ کی شاخ کے ایک ملازم کے بارے میں باقاعدہ شکایت درج کرانا چاہتا ہوں۔",
        "میرا بیٹا بیمار ہے اس لیے میں آج دفتر نہیں آ سکوں گا۔",
        "میرا اکاؤنٹ بغیر کسی وضاحت کے بند کر دیا گیا ہے۔",
        "مجھے اپنے پیسے جلد از جلد واپس چاہئیں۔",
        "آخری اپ ڈیٹ کے بعد سے میرا فون چارج نہیں ہو رہا۔",
        "مجھے اور کتنی دیر انتظار کرنا ہوگا؟",
        "مجھے بتائیں کہ میں اپنی ذاتی معلومات کیسے تبدیل کر سکتا ہوں۔",
    ],
}


def sentence_texts(per_lang: int, seed: int) -> list[tuple[str, str]]:
    """``per_lang`` texts per language, each one to three different sentences joined."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for lang, sentences in SENTENCES.items():
        for _ in range(per_lang):
            out.append((" ".join(rng.sample(sentences, rng.randint(1, 3))), lang))
    return out
