/* The map page: an ecosystem drawn with sigma.js (WebGL) over a graphology graph.
 *
 * The server sends positions (GET /api/v1/ecosystems/{eco}/map), so the first
 * frame needs no layout here. Everything that changes the picture (a layer
 * switched, a search) goes through sigma's reducers and one refresh: the graph
 * is never rebuilt, and nothing runs per frame besides sigma's own drawing.
 *
 * When the first frame is drawn and the controls are live:
 *   window.gliaMap = {ready, nodes, edges, visibleEdges, firstFrameMs}
 * (visibleEdges follows every layer switch), for the tests and the benchmark.
 */
(function () {
  "use strict";

  var KIND_COLOURS = {
    regional: "#4e79a7",
    business: "#f28e2b",
    knowledge: "#59a14f",
    capital: "#b07aa1",
    custom: "#9c755f",
    none: "#b8b8b8",
  };
  // Opaque colours, already mixed with the background: sigma blends with
  // premultiplied alpha, so translucent lines would add up to a glare.
  var LAYER_COLOURS = {
    formal: "#9aa4b1",
    informal: "#c9d0d8",
    exchange: "#9fd0c9",
  };
  var LAYERS = ["formal", "informal", "exchange"];
  var HIGHLIGHT_COLOUR = "#d1495b";

  var container = document.getElementById("map-canvas");
  if (!container) return;
  var status = document.getElementById("map-status");
  var eco = container.dataset.eco;
  var me = container.dataset.me || null;

  function kindColour(kind) {
    if (!kind) return KIND_COLOURS.none;
    return KIND_COLOURS[kind] || KIND_COLOURS.custom;
  }

  function participantUrl(id) {
    return "/e/" + encodeURIComponent(eco) + "/participants/" + encodeURIComponent(id);
  }

  function say(text) {
    status.textContent = text;
  }

  function sizesFor(nodes, measure) {
    // one size per node for a measure: the area grows with the value
    var large = nodes.length > 1000;
    var least = large ? 1.5 : 3;
    var most = large ? 7 : 14;
    var sizes = new Float32Array(nodes.length);
    var max = 0;
    var i;
    if (!measure) {
      for (i = 0; i < nodes.length; i++) sizes[i] = large ? 2.5 : 6;
      return sizes;
    }
    for (i = 0; i < nodes.length; i++) {
      var v = nodes[i].measures[measure];
      if (v != null && v > max) max = v;
    }
    for (i = 0; i < nodes.length; i++) {
      var value = nodes[i].measures[measure] || 0;
      sizes[i] = max > 0 ? least + (most - least) * Math.sqrt(value / max) : least;
    }
    return sizes;
  }

  function start(data) {
    var nodes = data.nodes;
    var edges = data.edges;
    var graph = new graphology.MultiGraph();
    var defaultMeasure = data.measures.indexOf("degree") >= 0 ? "degree" : "";
    var sizes = sizesFor(nodes, defaultMeasure);
    var i;
    for (i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      graph.addNode(n.id, {
        i: i,
        x: n.x,
        y: -n.y,
        size: sizes[i],
        label: n.label,
        color: kindColour(n.cluster_kind),
      });
    }
    var perLayer = { formal: 0, informal: 0, exchange: 0 };
    for (i = 0; i < edges.length; i++) {
      var e = edges[i];
      perLayer[e.layer] += 1;
      graph.addEdge(e.source, e.target, {
        layer: e.layer,
        color: LAYER_COLOURS[e.layer],
        size: e.layer === "exchange" ? 0.8 : 0.5,
      });
    }

    // What the reducers read; changed by the controls, then one refresh.
    var shown = { formal: true, informal: true, exchange: true };
    var highlighted = null;
    var labelsFromRatio = nodes.length <= 300 ? Infinity : 0.45;

    // Large maps: the cheapest programs (1-pixel lines, point sprites), and no
    // edges while the camera moves (sigma draws them again when it stops).
    var settings = {};
    if (edges.length > 5000) settings.edgeProgramClasses = { line: Sigma.rendering.EdgeLineProgram };
    if (nodes.length > 1000) settings.nodeProgramClasses = { circle: Sigma.rendering.NodePointProgram };
    if (edges.length > 20000) {
      settings.hideEdgesOnMove = true;
      settings.hideLabelsOnMove = true;
    }

    var renderer = new Sigma(graph, container, Object.assign(settings, {
      minCameraRatio: 0.01,
      maxCameraRatio: 4,
      labelRenderedSizeThreshold: 7,
      labelDensity: 0.6,
      labelFont: "system-ui, -apple-system, 'Segoe UI', sans-serif",
      labelSize: 12,
      renderLabels: labelsFromRatio === Infinity,
      zIndex: true,
      defaultEdgeType: "line",
      nodeReducer: function (node, attrs) {
        if (node === highlighted) {
          return Object.assign({}, attrs, {
            highlighted: true,
            forceLabel: true,
            size: Math.max(attrs.size * 1.8, 10),
            color: HIGHLIGHT_COLOUR,
            zIndex: 2,
          });
        }
        if (node === me) {
          return Object.assign({}, attrs, { forceLabel: true, zIndex: 1 });
        }
        return attrs;
      },
      edgeReducer: function (edge, attrs) {
        if (!shown[attrs.layer]) return Object.assign({}, attrs, { hidden: true });
        return attrs;
      },
    }));
    var camera = renderer.getCamera();

    // Labels only once zoomed in enough (a large map): one comparison per camera move.
    if (labelsFromRatio !== Infinity) {
      var labelsOn = false;
      camera.on("updated", function (state) {
        var want = state.ratio < labelsFromRatio || highlighted !== null;
        if (want !== labelsOn) {
          labelsOn = want;
          renderer.setSetting("renderLabels", want);
        }
      });
    }

    function visibleEdges() {
      var count = 0;
      for (var l = 0; l < LAYERS.length; l++) if (shown[LAYERS[l]]) count += perLayer[LAYERS[l]];
      return count;
    }

    // Layers
    LAYERS.forEach(function (layer) {
      var box = document.getElementById("layer-" + layer);
      var counter = document.querySelector('[data-count="' + layer + '"]');
      if (counter) counter.textContent = perLayer[layer].toLocaleString();
      box.addEventListener("change", function () {
        shown[layer] = box.checked;
        renderer.refresh({ skipIndexation: true });
        window.gliaMap.visibleEdges = visibleEdges();
        summary();
      });
    });

    // Size by
    var select = document.getElementById("size-by");
    data.measures.forEach(function (m) {
      var option = document.createElement("option");
      option.value = m;
      option.textContent = m.charAt(0).toUpperCase() + m.slice(1);
      select.appendChild(option);
    });
    select.value = defaultMeasure;
    select.addEventListener("change", function () {
      var s = sizesFor(nodes, select.value);
      graph.updateEachNodeAttributes(
        function (node, attrs) {
          attrs.size = s[attrs.i];
          return attrs;
        },
        { attributes: ["size"] }
      );
    });

    // Search
    var form = document.getElementById("map-search");
    var input = document.getElementById("map-search-input");
    var found = document.getElementById("map-found");
    var names = document.getElementById("map-names");
    var options = document.createDocumentFragment();
    for (i = 0; i < nodes.length; i++) {
      var option = document.createElement("option");
      option.value = nodes[i].label;
      options.appendChild(option);
    }
    names.appendChild(options);

    function find(query) {
      var q = query.trim().toLowerCase();
      if (!q) return { match: null, count: 0 };
      var exact = null;
      var prefix = null;
      var partial = null;
      var count = 0;
      for (var k = 0; k < nodes.length; k++) {
        var id = nodes[k].id.toLowerCase();
        var label = nodes[k].label.toLowerCase();
        if (id === q || label === q) {
          if (exact === null) exact = nodes[k];
          count++;
        } else if (label.indexOf(q) === 0 || id.indexOf(q) === 0) {
          if (prefix === null) prefix = nodes[k];
          count++;
        } else if (label.indexOf(q) >= 0 || id.indexOf(q) >= 0) {
          if (partial === null) partial = nodes[k];
          count++;
        }
      }
      return { match: exact || prefix || partial, count: count };
    }

    function show(node) {
      highlighted = node ? node.id : null;
      renderer.refresh({ skipIndexation: true });
      found.textContent = "";
      if (!node) return;
      var at = renderer.getNodeDisplayData(node.id);
      if (at) camera.animate({ x: at.x, y: at.y, ratio: Math.min(camera.ratio, 0.25) }, { duration: 400 });
      if (labelsFromRatio !== Infinity) renderer.setSetting("renderLabels", true);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = find(input.value);
      show(result.match);
      if (!input.value.trim()) return;
      if (!result.match) {
        found.textContent = "No participant matches “" + input.value.trim() + "”.";
        return;
      }
      var link = document.createElement("a");
      link.href = participantUrl(result.match.id);
      link.textContent = result.match.label;
      found.append("Found: ", link);
      if (result.count > 1) found.append(" (" + result.count + " match; the first is shown)");
    });
    input.addEventListener("search", function () {
      if (!input.value) show(null);
    });

    // Clicks and hover
    renderer.on("clickNode", function (event) {
      window.location.href = participantUrl(event.node);
    });
    renderer.on("enterNode", function () {
      container.style.cursor = "pointer";
    });
    renderer.on("leaveNode", function () {
      container.style.cursor = "";
    });

    // Zoom buttons
    document.getElementById("zoom-in").addEventListener("click", function () {
      camera.animatedZoom({ duration: 250 });
    });
    document.getElementById("zoom-out").addEventListener("click", function () {
      camera.animatedUnzoom({ duration: 250 });
    });
    document.getElementById("zoom-reset").addEventListener("click", function () {
      camera.animatedReset({ duration: 300 });
    });

    function summary() {
      say(
        nodes.length.toLocaleString() + " participants, " +
        visibleEdges().toLocaleString() + " of " + edges.length.toLocaleString() + " links shown."
      );
    }

    renderer.refresh();
    requestAnimationFrame(function () {
      document.querySelectorAll(".map-controls [disabled], .map-zoom [disabled]").forEach(function (el) {
        el.disabled = false;
      });
      summary();
      window.gliaMapRenderer = renderer;
      window.gliaMap = {
        ready: true,
        nodes: graph.order,
        edges: graph.size,
        visibleEdges: visibleEdges(),
        firstFrameMs: performance.now(),
      };
      container.dispatchEvent(new CustomEvent("glia:map-ready", { bubbles: true }));
    });
  }

  fetch(container.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        return response.json().then(
          function (problem) {
            throw new Error(problem.detail || problem.title || "HTTP " + response.status);
          },
          function () {
            throw new Error("HTTP " + response.status);
          }
        );
      }
      return response.json();
    })
    .then(start)
    .catch(function (error) {
      say("The map could not be drawn: " + error.message);
      window.gliaMap = { ready: false, error: String(error.message) };
    });
})();
