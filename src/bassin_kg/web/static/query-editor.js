/* The /query page with YASGUI (@zazuko/yasgui, installed by npm, served from node_modules: web/vendor.py).
 *
 * Progressive enhancement: the page is a plain GET form that works without JavaScript, and stays one
 * until YASGUI is up. Everything comes from the page itself: the query from the form's textarea, the
 * endpoint from the form's data-endpoint (this server's /sparql, same origin), the named queries' texts
 * from the data-query attributes of their links. Nothing else is fetched: prefix.cc lookups and the LOV
 * class/property autocompletion are off, and nothing is kept in localStorage (every visit starts from
 * the page's query, so /query?name=… shows that query, not yesterday's tab).
 *
 * YASGUI has no French translation and no setting for its words: the table's own (DataTables) are set
 * through its language option, and every other word it writes is replaced as it appears (FRENCH below,
 * watched by a MutationObserver). Result links to resources of this graph are rewritten to this
 * server's pages (data-base: the graph's base IRI), as the plain form's table does.
 */
(function () {
  "use strict";

  var RESULT_FORMATS = [["csv", "CSV"], ["tsv", "TSV"], ["json", "JSON"], ["xml", "XML"]];
  var GRAPH_FORMATS = [["ttl", "Turtle"], ["nt", "N-Triples"], ["jsonld", "JSON-LD"], ["rdfxml", "RDF/XML"]];

  var form = document.querySelector("form.editor[data-endpoint]");
  var textarea = form ? form.querySelector("textarea[name=query]") : null;
  var Yasgui = window.Yasgui;
  if (!form || !textarea || typeof Yasgui !== "function") {
    return; // the bundle did not load: the plain form stays
  }
  var endpoint = form.getAttribute("data-endpoint");
  var base = form.getAttribute("data-base") || "";
  var root = form.getAttribute("data-root") || "";
  var ontology = form.getAttribute("data-ontology") || "";
  // French headers for the named queries' result columns (the variable stays in the tooltip)
  var columns = {};
  try {
    columns = JSON.parse(form.getAttribute("data-columns") || "{}");
  } catch (err) {
    columns = {};
  }

  // every word YASGUI 4.6 shows, in French (exact texts; the counts below by pattern)
  var FRENCH = {
    "Table": "Tableau",
    "Response": "Réponse brute",
    "Simple view": "Vue simple",
    "Ellipse": "Abréger",
    "Filter query results": "Filtrer les résultats",
    "Download result": "Télécharger le résultat",
    "Download Results": "Télécharger les résultats",
    "Share query": "Partager la requête",
    "Run query": "Exécuter la requête",
    "Query": "Requête",
    "New Tab": "Nouvel onglet",
    "Rename Tab": "Renommer l'onglet",
    "Undo close Tab": "Rouvrir l'onglet fermé",
    "Close Tab": "Fermer l'onglet",
    "Close other tabs": "Fermer les autres onglets",
    "Copy Tab": "Dupliquer l'onglet",
    "Add tab": "Ajouter un onglet",
    "Show all": "Tout afficher",
    "Search:": "Rechercher :",
    "Search or add an endpoint": "Point d'accès",
    "Open settings": "Réglages",
    "Previous": "Précédent",
    "Next": "Suivant",
    "First": "Premier",
    "Last": "Dernier",
    "All": "Tout",
    "No data available in table": "Aucune donnée",
    "No matching records found": "Aucune ligne ne correspond",
    "Loading...": "Chargement…",
    "Page size: ": "Lignes par page : ",
    "Page size:": "Lignes par page :",
    "Shorten": "Raccourcir",
    "Copy": "Copier",
    "Error": "Erreur",
    "Endpoint is down": "Le point d'accès ne répond pas",
    "Try query in a new browser window": "Essayer la requête dans une nouvelle fenêtre",
    "Unable to get response from endpoint. Possible reasons:": "Aucune réponse du point d'accès. Raisons possibles :",
    "Incorrect endpoint URL": "Adresse du point d'accès incorrecte",
    "Request method": "Méthode de la requête",
    "Named Graphs": "Graphes nommés",
    "Default Graphs": "Graphes par défaut",
    "Header Arguments": "En-têtes",
    "Arguments": "Paramètres",
    "Remove": "Retirer",
    "Download not supported": "Téléchargement impossible",
    "Querying is disabled.": "Les requêtes sont désactivées."
  };
  var PATTERNS = [
    [/^Showing (\S+) to (\S+) of (\S+) (?:entries|entry|results|result|rows|row)?\s*$/, "Lignes $1 à $2 sur $3"],
    [/^Showing (\S+) to (\S+) of (\S+)(.*)$/, "Lignes $1 à $2 sur $3"],
    [/^\(filtered from (\S+) total.*\)$/, "(filtrées parmi $1)"],
    [/^(\d[\d,]*) results? in ([\d.]+) seconds?$/, "$1 résultat(s) en $2 s"],
    [/^(\d[\d,]*) results?$/, "$1 résultat(s)"],
    [/^in ([\d.]+) seconds?$/, "en $1 s"]
  ];

  function french(text) {
    var trimmed = text.trim();
    if (!trimmed) {
      return null;
    }
    if (Object.prototype.hasOwnProperty.call(FRENCH, trimmed)) {
      return text.replace(trimmed, FRENCH[trimmed]);
    }
    for (var i = 0; i < PATTERNS.length; i++) {
      if (PATTERNS[i][0].test(trimmed)) {
        return text.replace(trimmed, trimmed.replace(PATTERNS[i][0], PATTERNS[i][1]));
      }
    }
    return null;
  }

  function localHref(href) {
    if (base && href.indexOf(base + "id/") === 0) {
      return root + "/" + href.slice(base.length);
    }
    if (ontology && href.indexOf(ontology + "#") === 0) {
      return root + "/def" + href.slice(ontology.length);
    }
    return null;
  }

  function translate(node) {
    if (node.nodeType === 3) {
      if (node.parentNode && /^(TEXTAREA|PRE|CODE|SCRIPT|STYLE)$/.test(node.parentNode.nodeName)) {
        return; // the query and raw responses are the visitor's, not YASGUI's words
      }
      var replaced = french(node.nodeValue);
      if (replaced !== null && replaced !== node.nodeValue) {
        node.nodeValue = replaced;
      }
      return;
    }
    if (node.nodeType !== 1 || node.closest(".CodeMirror")) {
      return;
    }
    ["title", "placeholder", "aria-label"].forEach(function (name) {
      var value = node.getAttribute(name);
      var replaced = value === null ? null : french(value);
      if (replaced !== null && replaced !== value) {
        node.setAttribute(name, replaced);
      }
    });
    if (node.nodeName === "TH" && node.closest(".yasr") && !node.hasAttribute("data-variable")) {
      var variable = node.textContent.trim();
      if (Object.prototype.hasOwnProperty.call(columns, variable)) {
        // marked first: the change below is itself observed, and must not be translated again
        node.setAttribute("data-variable", variable);
        node.setAttribute("title", "?" + variable);
        if (node.textContent !== columns[variable]) {
          node.textContent = columns[variable];
        }
        return;
      }
    }
    if (node.nodeName === "A" && node.getAttribute("href")) {
      var local = localHref(node.getAttribute("href"));
      if (local !== null) {
        node.setAttribute("href", local);
        node.removeAttribute("target"); // a page of this site: same tab, like every other link
      }
    }
    for (var child = node.firstChild; child; child = child.nextSibling) {
      translate(child);
    }
  }

  // the table's own words, through DataTables' language option, where YASR lets it be set
  try {
    var table = Yasgui.Yasr && Yasgui.Yasr.plugins && Yasgui.Yasr.plugins.table;
    if (table && table.defaults) {
      table.defaults.tableConfig = table.defaults.tableConfig || {};
      table.defaults.tableConfig.language = {
        search: "Rechercher :",
        info: "Lignes _START_ à _END_ sur _TOTAL_",
        infoEmpty: "Aucune ligne",
        infoFiltered: "(filtrées parmi _MAX_)",
        emptyTable: "Aucune donnée",
        zeroRecords: "Aucune ligne ne correspond",
        lengthMenu: "_MENU_ lignes par page",
        loadingRecords: "Chargement…",
        paginate: { first: "Premier", last: "Dernier", next: "Suivant", previous: "Précédent" }
      };
      table.defaults.openIriInNewWindow = false;
    }
  } catch (err) {
    // an older or newer bundle without these defaults: the observer below still translates
  }
  var named = Array.prototype.slice.call(document.querySelectorAll("aside.named a[data-query]"));
  var current = document.querySelector("aside.named li.current a[data-query]");
  // what the server rendered for the form's query: replaced by YASR once YASGUI runs a query
  var serverResults = Array.prototype.slice.call(
    document.querySelectorAll("section.error, section[aria-labelledby=resultats]")
  );
  var hadResults = document.getElementById("resultats") !== null;

  var host = document.createElement("div");
  host.id = "yasgui";
  host.className = "yasgui-host";
  var downloads = document.createElement("p");
  downloads.className = "downloads yasgui-downloads";
  downloads.hidden = true;
  form.parentNode.insertBefore(host, form);

  var yasgui;
  try {
    yasgui = new Yasgui(host, {
      requestConfig: { endpoint: endpoint, method: "POST" },
      // the only endpoint on offer is this server's (the page's CSP would refuse any other anyway)
      endpointCatalogueOptions: {
        getData: function () {
          return [{ endpoint: endpoint }];
        }
      },
      copyEndpointOnNewTab: true,
      populateFromUrl: false, // the server already read ?query= / ?name= into the textarea
      persistenceId: null, // no localStorage: the page's query, not a stored tab, is what is shown
      autofocus: false, // keep the keyboard where the visitor is (skip link, navigation)
      tabName: "Requête",
      yasqe: {
        value: textarea.value,
        prefixCcApi: null, // the bundled prefix list, never prefix.cc
        autocompleters: ["variables", "prefixes"], // not "class"/"property": they query LOV online
        editorHeight: "22rem"
      },
      yasr: { defaultPlugin: "table" }
    });
  } catch (err) {
    host.parentNode.removeChild(host);
    if (window.console) {
      window.console.error("YASGUI could not start; the plain form stays", err);
    }
    return;
  }

  translate(host);
  if (typeof MutationObserver === "function") {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        if (mutation.type === "characterData") {
          translate(mutation.target);
        } else if (mutation.type === "attributes") {
          translate(mutation.target);
        } else {
          Array.prototype.forEach.call(mutation.addedNodes, translate);
        }
      });
    }).observe(host, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["title", "placeholder", "aria-label", "href"]
    });
  }

  host.appendChild(downloads); // below the editor and its results, in the same grid cell
  var first = yasgui.getTab();
  if (current) {
    first.setName(current.textContent);
  }

  function showDownloads(tab) {
    var query = tab.getQuery();
    var type = tab.getYasqe().getQueryType();
    var formats = type === "CONSTRUCT" || type === "DESCRIBE" ? GRAPH_FORMATS : RESULT_FORMATS;
    while (downloads.firstChild) {
      downloads.removeChild(downloads.firstChild);
    }
    downloads.appendChild(document.createTextNode("Télécharger : "));
    formats.forEach(function (format, i) {
      var link = document.createElement("a");
      link.href = endpoint + "?" + new URLSearchParams([["query", query], ["format", format[0]]]).toString();
      link.textContent = format[1];
      if (i > 0) {
        downloads.appendChild(document.createTextNode(" · "));
      }
      downloads.appendChild(link);
    });
    downloads.hidden = false;
  }

  yasgui.on("query", function () {
    serverResults.forEach(function (section) {
      section.hidden = true;
    });
    downloads.hidden = true;
  });
  yasgui.on("queryResponse", function (instance, tab) {
    if (tab === yasgui.getTab()) {
      showDownloads(tab);
    }
  });
  yasgui.on("tabSelect", function (instance, tabId) {
    var tab = yasgui.getTab(tabId);
    if (tab && tab.hasResults()) {
      showDownloads(tab);
    } else {
      downloads.hidden = true;
    }
  });

  // the named queries open (and run) in a tab of their own, as their links do without JavaScript
  named.forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return; // a new tab or window: let the link do it
      }
      event.preventDefault();
      var title = link.textContent;
      var tab = yasgui.tabNameTaken(title);
      if (tab) {
        yasgui.selectTabId(tab.getId());
        tab.setQuery(link.getAttribute("data-query"));
      } else {
        tab = yasgui.addTab(true, { name: title, yasqe: { value: link.getAttribute("data-query") } });
      }
      tab.query().catch(function () {});
    });
  });

  form.hidden = true;
  document.documentElement.classList.add("yasgui-ready");
  host.setAttribute("data-named-queries", String(named.length));
  if (hadResults) {
    // the server ran the form's query: run it in YASGUI too, so its results are in YASR's table
    first.query().catch(function () {});
  }
})();
