/* built bundle */
(function(){var d=JSON.parse(document.getElementById('site-data').textContent);var a=document.getElementById('app');a.innerHTML='<h1>'+d.studio.name+'</h1><p>'+d.studio.tagline+'</p><footer>'+d.studio.contact.email+' · '+d.studio.contact.phone+'</footer>';})();
