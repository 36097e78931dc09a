/* Staff pages: the zh-Hans / English switch (kept in localStorage). */
(function () {
  "use strict";
  var KEY = "shaozi-lang";
  function apply(lang) {
    document.documentElement.lang = lang === "en" ? "en" : "zh-Hans";
    var button = document.getElementById("staff-lang");
    if (button) { button.textContent = lang === "en" ? "中文" : "English"; }
  }
  var lang = "zh";
  try { lang = localStorage.getItem(KEY) || "zh"; } catch (e) { /* storage may be off */ }
  apply(lang);
  var button = document.getElementById("staff-lang");
  if (button) {
    button.addEventListener("click", function () {
      lang = lang === "en" ? "zh" : "en";
      try { localStorage.setItem(KEY, lang); } catch (e) { /* storage may be off */ }
      apply(lang);
    });
  }
  window.shaoziLang = function () { return lang; };
})();
