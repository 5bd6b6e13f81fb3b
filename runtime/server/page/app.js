// The web page at `/`: pick an image, choose a task the loaded bundle declares, ask, and
// watch the answer stream in with its evidence drawn over the image. Plain browser
// JavaScript, no dependencies; talks only to this server's API (same origin).
"use strict";

const KEY_STORE = "wan2.2-turbo.api-key";

// Tasks the page offers, in this order, when the bundle declares them.
const TASKS = [
  { id: "vqa", label: "Ask about the image", needsImage: true, needsText: true },
  { id: "caption", label: "Describe the image", needsImage: true },
  { id: "read", label: "Read the text (with boxes)", needsImage: true },
  { id: "detect", label: "Find objects", needsImage: true },
  { id: "rank", label: "Rank texts against the image (one per line)", needsImage: true, needsText: true },
  { id: "generate", label: "Generate text", needsText: true },
];
const AUTO = { id: "", label: "Chat (the server picks the task)" };

const $ = (id) => document.getElementById(id);
const state = {
  modelId: null,
  tasks: [],
  image: null,            // {dataUrl, name, width, height}
  turns: [],              // chat history sent with the next question: {role, text}
  controller: null,       // AbortController of the request in flight
  conversation: 0,        // bumped by each new conversation: a late reply of an old one is dropped
};

// --- the API key (kept in this tab only) -------------------------------------------------

function apiKey() {
  return sessionStorage.getItem(KEY_STORE);
}

function headers(json) {
  const result = {};
  if (json) result["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) result["Authorization"] = "Bearer " + key;
  return result;
}

let keyWaiters = [];

function askForKey(message) {
  $("key-reason").textContent = message;
  const dialog = $("key-dialog");
  if (!dialog.open) dialog.showModal();
  $("api-key").focus();
  return new Promise((resolve) => keyWaiters.push(resolve));
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORE, key);
  $("api-key").value = "";
  $("key-dialog").close();
  const waiters = keyWaiters;
  keyWaiters = [];
  waiters.forEach((resolve) => resolve());
});

$("key-dialog").addEventListener("cancel", (event) => event.preventDefault());  // the page needs it

// --- requests ----------------------------------------------------------------------------

class ServerError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let code = null;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) {
      message = body.error.message;
      code = body.error.code || null;
    }
  } catch (ignored) {
    // not JSON: keep the status line
  }
  return new ServerError(response.status, message, code);
}

// fetch with the key; on 401 ask for the key (showing the server's message) and retry.
async function call(path, options = {}) {
  for (;;) {
    let response;
    try {
      response = await fetch(path, { ...options, headers: headers(options.body !== undefined) });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ServerError(0, "Could not reach the server (" + error.message + "). Is it still running?", null);
    }
    if (response.status === 401) {
      const error = await errorFrom(response);
      sessionStorage.removeItem(KEY_STORE);
      await askForKey(error.message);
      continue;
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }
}

// --- model information ---------------------------------------------------------------------

async function waitUntilLoaded() {
  for (;;) {
    try {
      const response = await fetch("/health");
      if (response.ok) return;
      const body = await response.json().catch(() => ({}));
      if (body.status === "failed") throw new ServerError(503, "The model failed to load; see the server's log.");
      $("model-status").textContent = "The server is loading the model…";
    } catch (error) {
      if (error instanceof ServerError) throw error;
      $("model-status").textContent = "Waiting for the server…";
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function summarize(values) {
  return [...new Set(values)].sort().join(", ");
}

async function loadModel() {
  try {
    await waitUntilLoaded();
    const listing = await (await call("/v1/models")).json();
    const card = listing.data[0];
    state.modelId = card.id;
    state.tasks = [...card.tasks];
    // POST /v1/detect serves any bundle that loaded a detector, listed in `tasks` or not.
    if (!state.tasks.includes("detect") && card.components.some((c) => c.name === "detector")) state.tasks.push("detect");
    const precisions = summarize(card.components.map((c) => c.precision));
    const providers = summarize(card.components.map((c) => c.provider.replace(/ExecutionProvider$/, "")));
    $("model-status").textContent =
      `Model ${card.id} (${card.kind}) · precision ${precisions} · provider ${providers}` +
      (card.max_seq_len ? ` · up to ${card.max_seq_len} tokens` : "");
    const rows = $("components");
    rows.replaceChildren();
    for (const c of card.components) {
      const row = document.createElement("tr");
      for (const text of [c.name, c.precision, c.provider, c.reason]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      rows.append(row);
    }
    $("model-details").hidden = false;
    fillTasks();
  } catch (error) {
    $("model-status").textContent = "Not connected.";
    showError(error.message);
  }
}

function fillTasks() {
  const select = $("task");
  select.replaceChildren();
  const offered = TASKS.filter((task) => state.tasks.includes(task.id));
  $("legend-objects").hidden = !state.tasks.includes("detect");
  for (const task of [...offered, AUTO]) {
    const option = document.createElement("option");
    option.value = task.id;
    option.textContent = task.label;
    select.append(option);
  }
}

function taskOf(id) {
  return TASKS.find((task) => task.id === id) || AUTO;
}

// --- the image -----------------------------------------------------------------------------

function takeFile(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith("image/")) {
    showError(`${file.name} is not an image (${file.type}).`);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    const dataUrl = reader.result;
    const image = $("preview-image");
    image.onload = () => {
      state.image = { dataUrl, name: file.name || "pasted image", width: image.naturalWidth, height: image.naturalHeight };
      newConversation();
      const overlay = $("overlay");
      overlay.setAttribute("viewBox", `0 0 ${image.naturalWidth} ${image.naturalHeight}`);
      $("preview-caption").textContent = `${state.image.name} · ${image.naturalWidth}×${image.naturalHeight} px · ${formatBytes(file.size)}`;
      image.alt = "The image the conversation is about: " + state.image.name;
      $("preview").hidden = false;
    };
    image.onerror = () => showError(`The browser cannot show ${file.name}; the server may still read it.`);
    image.src = dataUrl;
  };
  reader.onerror = () => showError(`Could not read ${file.name}.`);
  reader.readAsDataURL(file);
}

function formatBytes(bytes) {
  if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
  if (bytes >= 1024) return (bytes / 1024).toFixed(0) + " KB";
  return bytes + " bytes";
}

$("file-input").addEventListener("change", (event) => takeFile(event.target.files[0]));

const dropZone = $("drop-zone");
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
// A file dropped anywhere on the page is taken (the preview is where a second image goes);
// the browser would otherwise open it in place of the page and lose the conversation.
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  if (event.dataTransfer && event.dataTransfer.files.length) takeFile(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const file = [...(event.clipboardData ? event.clipboardData.files : [])].find((f) => f.type.startsWith("image/"));
  if (file) {
    event.preventDefault();
    takeFile(file);
  }
});

$("clear-image").addEventListener("click", () => {
  state.image = null;
  $("preview").hidden = true;
  $("preview-image").removeAttribute("src");
  $("file-input").value = "";
  newConversation();
  $("file-input").focus();
});

// Boxes are [[x, y] × 4] in image pixels; kind is evidence, ocr or object.
function drawBoxes(boxes, kind) {
  const overlay = $("overlay");
  overlay.querySelectorAll("." + kind).forEach((node) => node.remove());
  const ns = "http://www.w3.org/2000/svg";
  for (const box of boxes) {
    const polygon = document.createElementNS(ns, "polygon");
    polygon.setAttribute("points", box.corners.map((p) => p.join(",")).join(" "));
    polygon.setAttribute("class", "box " + kind);
    polygon.setAttribute("vector-effect", "non-scaling-stroke");
    const title = document.createElementNS(ns, "title");
    title.textContent = box.label;
    polygon.append(title);
    overlay.append(polygon);
    if (kind === "object" && box.label) {
      // Objects are told apart by their names: written at the box's top-left corner, in
      // image pixels like the box (the overlay's viewBox is the image's size).
      const width = overlay.viewBox.baseVal ? overlay.viewBox.baseVal.width : 0;
      const size = Math.max(12, Math.round((width || 600) / 36));
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", Math.min(...box.corners.map((p) => p[0])) + 4);
      label.setAttribute("y", Math.max(size, Math.min(...box.corners.map((p) => p[1])) + size));
      label.setAttribute("font-size", size);
      label.setAttribute("class", "box-label " + kind);
      label.textContent = box.label;
      overlay.append(label);
    }
  }
}

function clearBoxes() {
  $("overlay").replaceChildren();
}

// A detection's box may come as corners or as [x1, y1, x2, y2].
function corners(box) {
  if (Array.isArray(box) && box.length === 4 && typeof box[0] === "number") {
    const [x1, y1, x2, y2] = box;
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
  }
  return box;
}

// --- the conversation ----------------------------------------------------------------------

function newConversation() {
  // A new image or "New conversation" ends the answer in flight: it belongs to the old one.
  if (state.controller) state.controller.abort();
  state.conversation += 1;
  state.turns = [];
  $("messages").replaceChildren();
  $("stats").textContent = "";
  clearBoxes();
  hideError();
}

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = "message " + role;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "Answer";
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  item.append(who, body);
  $("messages").append(item);
  followNewest();
  return body;
}

function followNewest() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function hideError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  $("messages").setAttribute("aria-busy", String(busy));
}

function imagePart() {
  return { type: "image_url", image_url: { url: state.image.dataUrl } };
}

// The chat messages: earlier turns, then this one; the image rides on the first user turn.
function chatMessages(text) {
  const turns = [...state.turns, { role: "user", text }];
  return turns.map((turn, index) => {
    if (turn.role === "user" && index === 0 && state.image) {
      const content = [imagePart()];
      if (turn.text) content.push({ type: "text", text: turn.text });
      return { role: "user", content };
    }
    return { role: turn.role, content: turn.text };
  });
}

function maxTokens() {
  const value = parseInt($("max-tokens").value, 10);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart());
      if (data.length) yield data.join("\n");  // comment lines (": keep-alive") carry no data
    }
  }
}

async function chat(task, text, answer, timing) {
  const body = {
    model: state.modelId,
    messages: chatMessages(text),
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: maxTokens(),
  };
  if (task.id) body.task = task.id;
  const response = await call("/v1/chat/completions", {
    method: "POST", body: JSON.stringify(body), signal: state.controller.signal,
  });
  let content = "";
  let usage = null;
  let finish = null;
  for await (const data of sseEvents(response)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new ServerError(0, chunk.error.message, chunk.error.code);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices && chunk.choices[0];
    if (!choice) continue;
    if (choice.delta && choice.delta.content) {
      timing.tokenArrived();
      content += choice.delta.content;
      answer.textContent = content;
      followNewest();
    }
    if (choice.evidence) drawEvidence(choice.evidence);
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  if (!finish) throw new ServerError(0, "The server closed the stream before the answer was complete.", null);
  if (!content) answer.textContent = "(empty answer)";
  state.turns.push({ role: "user", text }, { role: "assistant", text: content });
  return { tokens: usage ? usage.completion_tokens : null, finish };
}

function drawEvidence(lines) {
  drawBoxes(lines.map((line) => ({ corners: line.box, label: `${line.text} (${Math.round(line.confidence * 100)}%)` })), "evidence");
}

async function read(answer, timing) {
  const response = await call("/v1/read", {
    method: "POST", body: JSON.stringify({ model: state.modelId, image: state.image.dataUrl }), signal: state.controller.signal,
  });
  const result = await response.json();
  timing.tokenArrived();
  answer.textContent = result.text || "(no text found)";
  followNewest();
  drawBoxes(result.lines.map((line) => ({ corners: line.box, label: `${line.text} (${Math.round(line.confidence * 100)}%)` })), "ocr");
  return { metadata: result.metadata };
}

async function detect(answer, timing) {
  const response = await call("/v1/detect", {
    method: "POST", body: JSON.stringify({ model: state.modelId, image: state.image.dataUrl }), signal: state.controller.signal,
  });
  const result = await response.json();
  timing.tokenArrived();
  const found = result.objects || result.detections || [];
  const name = (item) => item.label || item.name || item.class || "object";
  const score = (item) => item.score !== undefined ? item.score : item.confidence;
  answer.textContent = found.length
    ? found.map((item) => `${name(item)} (${Math.round((score(item) || 0) * 100)}%)`).join(", ")
    : "No objects found.";
  drawBoxes(found.map((item) => ({ corners: corners(item.box), label: `${name(item)} ${Math.round((score(item) || 0) * 100)}%` })), "object");
  return { metadata: result.metadata };
}

async function rank(text, answer, timing) {
  const texts = text.split("\n").map((line) => line.trim()).filter(Boolean);
  const response = await call("/v1/rank", {
    method: "POST", body: JSON.stringify({ model: state.modelId, image: state.image.dataUrl, texts }), signal: state.controller.signal,
  });
  const result = await response.json();
  timing.tokenArrived();
  answer.textContent = result.order.map((index) => `${result.scores[index].toFixed(3)}  ${texts[index]}`).join("\n");
  followNewest();
  return { metadata: result.metadata };
}

class Timing {
  constructor() {
    this.started = performance.now();
    this.first = null;
    this.chunks = 0;
  }
  tokenArrived() {
    if (this.first === null) this.first = performance.now();
    this.chunks += 1;
  }
  describe(result) {
    const ended = performance.now();
    const parts = [];
    if (result.tokens === undefined) {  // read / detect: one JSON reply, no tokens
      parts.push(`answered in ${Math.round(ended - this.started)} ms`);
    } else if (this.first !== null) {
      parts.push(`first token after ${Math.round(this.first - this.started)} ms`);
    }
    if (result.tokens !== null && result.tokens !== undefined) {
      parts.push(`${result.tokens} tokens in ${((ended - this.started) / 1000).toFixed(2)} s`);
      if (this.chunks > 1 && ended > this.first) {
        parts.push(`${((result.tokens - 1) / ((ended - this.first) / 1000)).toFixed(1)} tokens/s`);
      } else if (result.tokens > 0) {
        parts.push("the reply came in one piece");
      }
    }
    if (result.metadata) parts.push(`server: ${result.metadata.precision} on ${result.metadata.provider}`);
    if (result.finish === "length") parts.push("stopped at the token limit");
    return parts.join(" · ");
  }
}

async function send() {
  if (state.controller) return;
  hideError();
  const task = taskOf($("task").value);
  const text = $("prompt").value.trim();
  if (!state.modelId) {
    showError("Not connected to a model yet.");
    return;
  }
  if (task.needsImage && !state.image) {
    showError(`"${task.label}" needs an image: drop, paste or pick one first.`);
    $("file-input").focus();
    return;
  }
  if (task.needsText && !text) {
    showError(`"${task.label}" needs a message.`);
    $("prompt").focus();
    return;
  }
  if (!task.id && !text && !state.image) {
    showError("Type a message or add an image.");
    $("prompt").focus();
    return;
  }
  addMessage("user", text || task.label);
  const answer = addMessage("assistant", "");
  answer.parentElement.setAttribute("aria-busy", "true");
  $("prompt").value = "";
  $("stats").textContent = "Working…";
  state.controller = new AbortController();
  const conversation = state.conversation;
  setBusy(true);
  const timing = new Timing();
  drawBoxes([], "evidence");  // the last answer's evidence; OCR boxes of the same image stay
  try {
    let result;
    if (task.id === "read") result = await read(answer, timing);
    else if (task.id === "detect") result = await detect(answer, timing);
    else if (task.id === "rank") result = await rank(text, answer, timing);
    else result = await chat(task, text, answer, timing);
    if (conversation !== state.conversation) return;  // the conversation was left while it ran
    $("stats").textContent = timing.describe(result);
    $("announce").textContent = "Answer: " + answer.textContent;  // read out once, complete
  } catch (error) {
    if (conversation !== state.conversation) return;
    if (error.name === "AbortError") {
      answer.append(document.createTextNode(answer.textContent ? " " : ""));
      const note = document.createElement("em");
      note.textContent = "[stopped]";
      answer.append(note);
      $("stats").textContent = "Stopped after " + Math.round(performance.now() - timing.started) + " ms.";
    } else {
      const shown = answer.textContent;
      answer.textContent = (shown ? shown + "\n" : "") + "Error: " + error.message;
      answer.parentElement.classList.add("failed");
      showError(error.message);
      $("stats").textContent = "";
    }
  } finally {
    answer.parentElement.setAttribute("aria-busy", "false");
    state.controller = null;
    setBusy(false);
    $("prompt").focus();
  }
}

function stop() {
  if (state.controller) state.controller.abort();
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.controller) stop();
});
$("stop").addEventListener("click", stop);
$("new-chat").addEventListener("click", () => {
  newConversation();
  $("prompt").focus();
});

loadModel();
