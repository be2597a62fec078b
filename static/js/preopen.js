// The tablet page's first script, written into the page by its view (webapp/tablet/shell.py)
// so that it runs as the page arrives: opening the tablet's storage and reading who is on it
// take tens of milliseconds, so start both now, while the page and its modules load;
// static/js/store.js takes them over. Only storage already there is opened (a new tablet's,
// or an older version of it, is made by store.js). Nothing here may end the element early
// (webapp/tablet/shell.py checks).
{
  const open = indexedDB.open("supervise");
  globalThis.supervisePreopen = { open, keys: null };
  open.onupgradeneeded = () => open.transaction.abort();
  open.onsuccess = () => {
    try {
      globalThis.supervisePreopen.keys = open.result.transaction("keys").objectStore("keys").getAll();
    } catch {
      // no such store: store.js opens and checks the storage itself
    }
  };
}
