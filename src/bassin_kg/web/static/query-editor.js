/* The /query page with YASGUI (@zazuko/yasgui, installed by npm, served from node_modules: web/vendor.py).
 *
 * Progressive enhancement: the page is a plain GET form that works without JavaScript, and stays one
 * until YASGUI is up. Everything comes from the page itself: the query from the form's textarea, the
 * endpoint from the form's data-endpoint (this server's /sparql, same origin), the named queries' texts
 * from the data-query attributes of their links. Nothing else is fetched: prefix.cc lookups and the LOV
 * class/property autocompletion are off, and nothing is kept in localStorage (every visit starts from
 * the page's query, so /query?name=… shows that query, not yesterday's tab).
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
