// The legal designers' studio: bpmn-js Modeler with the properties panel and Tramita's group, lint
// findings from the server marked on the canvas, read-only views and the diff drawn on the diagram.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import TramitaProviderModule from './provider.js';
import translateModule from './translate-es.js';
import { tramita, spiffworkflow } from './moddle.js';

const moddleExtensions = { tramita, spiffworkflow };
const SEVERITY = { error: 'Error', warning: 'Advertencia' };

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function select(modeler, id) {
  const element = modeler.get('elementRegistry').get(id);
  if (!element) return;
  modeler.get('selection').select(element);
  modeler.get('canvas').scrollToElement(element);
}

function renderFindings(modeler, findings, list, marked) {
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  const registry = modeler.get('elementRegistry');
  marked.forEach((id) => { canvas.removeMarker(id, 'lint-error'); canvas.removeMarker(id, 'lint-warning'); });
  marked.clear();
  overlays.remove({ type: 'lint' });
  const byElement = {};
  findings.forEach((f) => { (byElement[f.element_id] = byElement[f.element_id] || []).push(f); });
  Object.entries(byElement).forEach(([id, fs]) => {
    if (!id || !registry.get(id)) return;
    const worst = fs.some((f) => f.severity === 'error') ? 'error' : 'warning';
    canvas.addMarker(id, `lint-${worst}`);
    marked.add(id);
    overlays.add(id, 'lint', {
      position: { top: -10, right: 10 },
      html: `<span class="lint-badge lint-badge-${worst}" title="${fs.map((f) => f.message).join(' | ').replace(/"/g, '&quot;')}">${fs.length}</span>`
    });
  });
  list.replaceChildren();
  findings.forEach((f) => {
    const li = el('li', { class: `finding finding-${f.severity}` });
    const button = el('button', { type: 'button', class: 'link', 'data-element': f.element_id });
    button.append(el('strong', {}, SEVERITY[f.severity] || f.severity), ' ',
      el('span', {}, f.element_name ? `«${f.element_name}» (${f.element_id})` : (f.element_id || f.file)), ': ',
      el('span', {}, f.message), ' ', el('code', {}, f.rule));
    button.addEventListener('click', () => select(modeler, f.element_id));
    li.append(button);
    list.append(li);
  });
}

export async function edit() {
  const page = readJson('studio-config');
  const modeler = new BpmnModeler({
    container: '#canvas',
    propertiesPanel: { parent: '#properties' },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, TramitaProviderModule, translateModule],
    moddleExtensions,
    tramitaOptions: page.options
  });
  const status = document.getElementById('lint-status');
  const list = document.getElementById('findings');
  const marked = new Set();
  const state = { findings: [], saving: null, dirty: false, modeler };
  window.__studio = state;
  await modeler.importXML(readJson('draft-xml'));
  modeler.get('canvas').zoom('fit-viewport');
  performance.mark('studio-drawn');

  async function check() {
    const { xml } = await modeler.saveXML({ format: true });
    status.textContent = 'Guardando y revisando…';
    const response = await fetch(page.checkUrl, {
      method: 'POST', headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': page.csrf }, body: xml
    });
    const body = await response.json();
    if (!response.ok) {
      status.textContent = body.message || 'No se pudo guardar el borrador.';
      return body;
    }
    state.findings = body.findings;
    state.dirty = false;
    renderFindings(modeler, body.findings, list, marked);
    status.textContent = `Borrador guardado · ${body.errors} error(es), ${body.warnings} advertencia(s)`;
    document.dispatchEvent(new CustomEvent('studio:checked', { detail: body }));
    return body;
  }
  state.check = () => (state.saving = check());

  let timer = null;
  modeler.on('commandStack.changed', () => {
    state.dirty = true;
    clearTimeout(timer);
    timer = setTimeout(state.check, 700);
  });
  const form = document.getElementById('submit-form');
  if (form) {
    form.addEventListener('submit', async (event) => {
      if (form.dataset.checked) return;
      event.preventDefault();
      clearTimeout(timer);
      await state.check();
      form.dataset.checked = '1';
      form.requestSubmit();
    });
  }
  await state.check();
  document.body.dataset.studioReady = '1';
}

export async function view() {
  const page = readJson('viewer-config');
  const containers = page.diagrams.map((d) => d.container);
  await Promise.all(page.diagrams.map(async (d) => {
    const viewer = new NavigatedViewer({ container: d.container, moddleExtensions, additionalModules: [translateModule] });
    await viewer.importXML(readJson(d.xml));
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport');
    const marked = Object.entries(d.markers || {}).filter(([id]) => registry.get(id));
    marked.forEach(([id, cls]) => canvas.addMarker(id, cls));
    // A dry run's path: the sequence flows taken (source -> target), and each deadline on its element.
    const taken = new Set((d.flows || []).map(([a, b]) => `${a}>${b}`));
    registry.filter((e) => e.type === 'bpmn:SequenceFlow' && e.businessObject.sourceRef && e.businessObject.targetRef
      && taken.has(`${e.businessObject.sourceRef.id}>${e.businessObject.targetRef.id}`))
      .forEach((e) => canvas.addMarker(e.id, 'sim-flow'));
    const overlays = viewer.get('overlays');
    (d.overlays || []).filter(([id]) => registry.get(id)).forEach(([id, text]) => {
      const note = document.createElement('div');
      note.className = 'sim-plazo';
      note.textContent = text;
      overlays.add(id, 'sim-plazo', { position: { bottom: 4, left: 0 }, html: note });
    });
    if (marked.length && !d.fit) {  // bring the first change into view at a readable size
      canvas.zoom(0.8);
      canvas.scrollToElement(registry.get(marked[0][0]));
    }
  }));
  document.body.dataset.studioReady = String(containers.length);
}

window.TramitaStudio = { edit, view };
document.addEventListener('DOMContentLoaded', () => {
  if (document.getElementById('studio-config')) edit();
  else if (document.getElementById('viewer-config')) view();
});
