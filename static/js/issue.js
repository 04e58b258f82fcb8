// Issue form: show which batches nearest-expiry-first will use, and offer only the
// selected item's batches in the batch list.
(function () {
  "use strict";
  var dataEl = document.getElementById("fefo-data");
  var form = document.getElementById("issue-form");
  if (!dataEl || !form) { return; }
  var plans = JSON.parse(dataEl.textContent || "{}");
  var item = form.querySelector("[name='item_id']");
  var qty = form.querySelector("[name='quantity']");
  var batch = form.querySelector("[name='batch_id']");
  var out = document.getElementById("fefo-plan");
  var lang = document.documentElement.lang || "zh-CN";
  var words = lang.indexOf("en") === 0
    ? { take: "Will take", from: "from lot", short: "Not enough usable stock.",
        chosen: "Only from the chosen batch:", hint: out.textContent }
    : { take: "将出库", from: "批号", short: "可用库存不足。", chosen: "仅从指定批次出库：", hint: out.textContent };

  // The server's rule (ledger.parse_decimal_text): plain digits with an optional decimal point,
  // full-width digits allowed; "1,000" or "1e3" are not numbers here either (NaN: no plan shown).
  function plainNumber(text) {
    var t = String(text || "").replace(/[\uFF10-\uFF19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/[\uFF0E\u3002]/g, ".").replace(/\s+/g, "");
    return /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseFloat(t) : NaN;
  }

  function refresh() {
    var id = item.value;
    Array.prototype.forEach.call(batch.options, function (opt) {
      var owner = opt.getAttribute("data-item");
      opt.hidden = owner !== null && owner !== id;
      if (opt.hidden && opt.selected) { batch.value = ""; }
    });
    var wanted = plainNumber(qty.value);
    var list = plans[id] || [];
    if (batch.value) {
      var chosen = batch.options[batch.selectedIndex];
      out.textContent = words.chosen + " " + chosen.text;
      return;
    }
    if (!id || !(wanted > 0)) { out.textContent = words.hint; return; }
    var parts = [];
    for (var i = 0; i < list.length && wanted > 0; i++) {
      var take = Math.min(parseFloat(list[i].qty), wanted);
      parts.push(words.take + " " + take + " " + words.from + " " + list[i].lot +
                 (list[i].expires ? " (" + list[i].expires + ")" : ""));
      wanted -= take;
    }
    out.textContent = wanted > 1e-9 ? words.short : parts.join("；");
  }
  item.addEventListener("change", refresh);
  qty.addEventListener("input", refresh);
  batch.addEventListener("change", refresh);
  refresh();
})();
