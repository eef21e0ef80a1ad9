<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Contact</title>
</head>
<body>

<p>Tél/Fax : 04 91 23 45 67<br>Portable : 06 98 76 54 32</p><p>plombier.girard@wanadoo.fr</p><p>TVA intracom FR 12 345678901 &middot; Devis n° 2024-0142</p>
</body>
</html>
