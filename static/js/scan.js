// Scanning: keyboard-wedge scanners, typed codes and the phone camera.
//
// Every scan form works without this script (the field is submitted as typed).  This adds:
//  * the camera: the browser's BarcodeDetector where it exists (Android Chrome), otherwise the
//    ZXing decoder (npm @zxing/browser, served by the app from node_modules), loaded on demand;
//  * wedge scans anywhere on the page: a scanner "types" the code fast and presses Enter; when no
//    field has the focus such a burst is taken as a scan;
// Only the 12-character code is used from a scanned URL; its host is never followed.
(function () {
  "use strict";

  // During a count the camera comes back on by itself after each saved quantity.
  var CAMERA_KEY = "scan-camera-on";

  function remember(on) {
    try {
      if (on) { window.sessionStorage.setItem(CAMERA_KEY, "1"); } else { window.sessionStorage.removeItem(CAMERA_KEY); }
    } catch (e) { /* storage disabled: the keeper taps the camera button again */ }
  }

  function remembered() {
    try { return window.sessionStorage.getItem(CAMERA_KEY) === "1"; } catch (e) { return false; }
  }
  var URL_CODE_RE = /\/[sS]\/([A-Za-z2-7][A-Za-z2-7 -]{10,20})\/?$/;
  var RAW_CODE_RE = /^[A-Za-z2-7]{12}$/;
  // Zero-width space, non-joiner, joiner, word joiner, byte-order mark, soft hyphen.
  var INVISIBLE_RE = /[\u200b\u200c\u200d\u2060\ufeff\u00ad]/g;
  // White space and hyphen-like dashes between the groups of a typed code.
  var SEPARATORS_RE = /[\s\-\u2010-\u2015\u2212]+/g;

  // The label code in a scanned or typed text, or null: the rule of code_from_text and
  // normalise_code in inventory/services/scan.py and codes.py.  NFKC first (a scanner on a
  // Chinese input method types full-width "ＡＢＣＤ－…"), then a URL's path ending in /S/CODE
  // from any host, without its query string or fragment, or a bare code with separators.
  function codeFrom(text) {
    text = String(text || "");
    if (text.normalize) { text = text.normalize("NFKC"); }
    text = text.replace(INVISIBLE_RE, "").trim();
    if (!text || text.length > 200) { return null; }
    var match = URL_CODE_RE.exec(text.split(/[?#]/)[0]);
    var code = (match ? match[1] : text).replace(SEPARATORS_RE, "");
    return RAW_CODE_RE.test(code) ? code.toUpperCase() : null;
  }

  function Scanner(form) {
    this.form = form;
    this.input = form.querySelector("[data-scan-input]");
    this.status = form.querySelector("[data-scan-status]");
    this.view = form.querySelector("[data-scan-view]");
    this.video = form.querySelector("[data-scan-video]");
    this.cameraButton = form.querySelector("[data-scan-camera]");
    this.stopButton = form.querySelector("[data-scan-stop]");
    this.mode = form.getAttribute("data-scan-mode") || "open";
    this.stream = null;
    this.controls = null;
    this.timer = null;
    this.done = false;
  }

  Scanner.prototype.say = function (key) {
    if (this.status) { this.status.textContent = this.form.getAttribute("data-msg-" + key) || ""; }
  };

  // Not one of our codes: say so, buzz, and select the field so that the next scan replaces it
  // (a wedge scanner would otherwise append to the rejected text).
  Scanner.prototype.reject = function () {
    this.say("invalid");
    if (navigator.vibrate) { navigator.vibrate(200); }
    if (this.input) { this.input.focus(); this.input.select(); }
  };

  // A code was read (camera or wedge): open its page, or submit it in the count form.
  Scanner.prototype.accept = function (text) {
    var code = codeFrom(text);
    if (!code) { this.reject(); return false; }
    if (this.done) { return true; }
    this.done = true;
    var fromCamera = Boolean(this.stream);
    this.stop();
    if (this.input) { this.input.value = code; }
    if (this.mode === "fill") { remember(fromCamera); }
    if (this.mode === "open") {
      window.location.assign(this.form.getAttribute("data-landing").replace("CODE", code));
    } else if (this.form.requestSubmit) {
      this.form.requestSubmit();
    } else {
      this.form.submit();
    }
    return true;
  };

  Scanner.prototype.stop = function () {
    if (this.timer) { window.clearTimeout(this.timer); this.timer = null; }
    if (this.controls) { try { this.controls.stop(); } catch (e) { /* already stopped */ } this.controls = null; }
    if (this.stream) { this.stream.getTracks().forEach(function (t) { t.stop(); }); this.stream = null; }
    if (this.view) { this.view.hidden = true; }
    if (this.cameraButton) { this.cameraButton.hidden = false; }
  };

  Scanner.prototype.start = function () {
    var self = this;
    self.done = false;
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      self.say("insecure");
      return;
    }
    self.say("starting");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        self.stream = stream;
        self.video.srcObject = stream;
        self.view.hidden = false;
        self.cameraButton.hidden = true;
        return self.video.play().catch(function () { /* autoplay refused: frames still arrive */ });
      })
      .then(function () { return self.nativeDetector(); })
      .then(function (detector) {
        if (!self.stream) { return; }
        self.say("aim");
        if (detector) { self.loopNative(detector); } else { self.startZXing(); }
      })
      .catch(function () { remember(false); self.stop(); self.say("nocamera"); });
  };

  // BarcodeDetector with QR support, or null (absent on desktop Linux and iOS).
  Scanner.prototype.nativeDetector = function () {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  };

  Scanner.prototype.loopNative = function (detector) {
    var self = this;
    function tick() {
      if (!self.stream || self.done) { return; }
      detector.detect(self.video).then(function (codes) {
        for (var i = 0; i < codes.length; i++) {
          if (codeFrom(codes[i].rawValue)) { self.accept(codes[i].rawValue); return; }
        }
        self.timer = window.setTimeout(tick, 150);
      }).catch(function () { self.timer = window.setTimeout(tick, 300); });
    }
    tick();
  };

  Scanner.prototype.startZXing = function () {
    var self = this;
    loadDecoder(self.form.getAttribute("data-decoder")).then(function (ZXing) {
      if (!self.stream) { return; }
      var reader = new ZXing.BrowserQRCodeReader(undefined, { delayBetweenScanAttempts: 120 });
      return reader.decodeFromStream(self.stream, self.video, function (result) {
        // zxing may report a bogus extra symbol (zxing-cpp issue #1162; docs/sources.md §9.4): only our codes count.
        if (result && codeFrom(result.getText())) { self.accept(result.getText()); }
      }).then(function (controls) {
        if (self.stream) { self.controls = controls; } else { controls.stop(); }
      });
    }).catch(function () { self.stop(); self.say("nodecoder"); });
  };

  var decoderPromise = null;
  function loadDecoder(src) {
    if (window.ZXingBrowser) { return Promise.resolve(window.ZXingBrowser); }
    if (!decoderPromise) {
      decoderPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { return window.ZXingBrowser ? resolve(window.ZXingBrowser) : reject(); };
        script.onerror = function () { decoderPromise = null; reject(); };
        document.head.appendChild(script);
      });
    }
    return decoderPromise;
  }

  function isField(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
                  el.isContentEditable);
  }

  // Wedge scans while no field has the focus: characters in quick succession ending with Enter
  // that make up a label code.  A pause longer than WEDGE_GAP_MS starts a new code.
  var WEDGE_GAP_MS = 300;
  function listenForWedge(scanner) {
    var buffer = "";
    var last = 0;
    document.addEventListener("keydown", function (event) {
      if (isField(document.activeElement) || event.ctrlKey || event.altKey || event.metaKey) { return; }
      var now = Date.now();
      if (now - last > WEDGE_GAP_MS) { buffer = ""; }
      last = now;
      if (event.key === "Enter") {
        if (codeFrom(buffer)) { event.preventDefault(); scanner.accept(buffer); }
        buffer = "";
      } else if (event.key && event.key.length === 1) {
        buffer += event.key;
      }
    });
  }

  // Focus the page's autofocus field now rather than when the browser gets round to it, so that
  // a scan right after the page appears is not lost.
  var autofocus = document.querySelector("[data-scan-form] [autofocus], [data-count-form] [autofocus]");
  if (autofocus && (!document.activeElement || document.activeElement === document.body)) { autofocus.focus(); }

  var forms = document.querySelectorAll("[data-scan-form]");
  Array.prototype.forEach.call(forms, function (form, index) {
    var scanner = new Scanner(form);
    if (scanner.cameraButton) {
      scanner.cameraButton.hidden = false;
      scanner.cameraButton.addEventListener("click", function () { scanner.start(); });
    }
    if (scanner.stopButton) {
      scanner.stopButton.addEventListener("click", function () { remember(false); scanner.stop(); scanner.say("stopped"); });
    }
    if (scanner.mode === "fill" && scanner.cameraButton && remembered() && !document.querySelector("[data-count-form]")) {
      scanner.start();
    }
    // A typed or wedge-scanned URL is reduced to its code before the form goes.
    form.addEventListener("submit", function (event) {
      var code = scanner.input ? codeFrom(scanner.input.value) : null;
      if (scanner.input && scanner.input.value && !code) { event.preventDefault(); scanner.reject(); return; }
      if (code) { scanner.input.value = code; }
      if (code && scanner.mode === "open") { event.preventDefault(); scanner.accept(code); }
    });
    window.addEventListener("pagehide", function () { scanner.stop(); });
    if (index === 0) { listenForWedge(scanner); }
  });

  // The code rule, for the test that checks it against the server's (tests/test_scan_browser.py).
  // A label scanned into a quantity box is left to the server (label_in_quantity), which says so.
  window.inventoryScan = { codeFrom: codeFrom };

  // Print pages: check or clear a whole group; the remembered offset follows the chosen layout.
  Array.prototype.forEach.call(document.querySelectorAll("[data-check-group]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var group = document.getElementById(button.getAttribute("data-check-group"));
      var on = button.getAttribute("data-check") === "all";
      Array.prototype.forEach.call(group.querySelectorAll("input[type='checkbox']"), function (box) {
        box.checked = on;
      });
    });
  });
  var offsetsEl = document.getElementById("label-offsets");
  var layoutSelect = document.querySelector("select[name='layout']");
  if (offsetsEl && layoutSelect) {
    var offsets = JSON.parse(offsetsEl.textContent || "{}");
    layoutSelect.addEventListener("change", function () {
      var saved = offsets[layoutSelect.value] || [0, 0];
      var x = document.querySelector("[name='offset_x']");
      var y = document.querySelector("[name='offset_y']");
      if (x) { x.value = saved[0]; }
      if (y) { y.value = saved[1]; }
    });
  }
})();
