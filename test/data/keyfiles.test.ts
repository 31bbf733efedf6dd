import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadMhp } from '../../src/data/formats/mhp.js';
import { loadMicd } from '../../src/data/formats/micd.js';
import { loadPaperKey } from '../../src/data/formats/paper-key.js';
import { buildMhp } from './datasets.js';
import { put, putJpeg, putPng, tempDir } from './helpers.js';

test('MHP: key file rows, labels as written, official split; unlabelled and imageless posts dropped', () => {
  const dir = buildMhp();
  const r = loadMhp(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.split, x.image]),
    [
      ['1', 'you people are all the same', '2', 'train', join(dir, 'Data', 'Images', '1.jpg')],
      ['2', 'nice day,\nright?', '0', 'train', join(dir, 'Data', 'Images', '2.jpg')],
      ['3', 'go back', '3', 'dev', join(dir, 'Data', 'Images', '3.jpg')],
    ],
  );
  assert.deepEqual(r.dropped, { unlabelled: 1 });
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
});

test('MHP: a truncated key file names the line; a missing key file names what was expected', () => {
  const dir = buildMhp();
  put(join(dir, 'data_key_mhp.csv'), 'tweet_id,text,label,split\n1,a,0,train\n2,"cut off');
  assert.throws(() => loadMhp(dir), /data_key_mhp\.csv:3: quoted field is never closed/);
  put(join(dir, 'data_key_mhp.csv'), 'tweet_id,text,label,split\n1,a,0,train\n2,b\n');
  assert.throws(() => loadMhp(dir), /data_key_mhp\.csv:3: expected 4 fields \(tweet_id, text, label, split\), found 2/);
  put(join(dir, 'data_key_mhp.csv'), 'tweet_id,text,label,split\n../../etc/passwd,a,0,train\n');
  assert.throws(
    () => loadMhp(dir),
    /data_key_mhp\.csv:2 column 'tweet_id': id '\.\.\/\.\.\/etc\/passwd' is not a plain file name; refused/,
  );
  assert.throws(() => loadMhp(tempDir()), /data_key_mhp\.csv not found \(expected the MHP key CSV/);
});

test('MICD: id,domain,year,month,label,split plus rehydrated text; images <id>_1.jpg; extra columns kept', () => {
  const dir = tempDir('micd-');
  put(
    join(dir, 'data_key_mic.csv'),
    'id,domain,year,month,label,split,text\n1295433508505214976,food,2020,8,1,train,#ad try this\n895729456450588673,lifestyle,2017,8,0,val,my morning\n1098143784855093248,fitness,2019,2,0,test,no image\n',
  );
  putJpeg(join(dir, 'spc_imgs_twitter', '1295433508505214976_1.jpg'));
  putJpeg(join(dir, 'spc_imgs_twitter', '895729456450588673_1.jpg'));
  const r = loadMicd(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.split, x.extra]),
    [
      ['1295433508505214976', '#ad try this', 'commercial', 'train', { domain: 'food', year: '2020', month: '8' }],
      ['895729456450588673', 'my morning', 'not-commercial', 'dev', { domain: 'lifestyle', year: '2017', month: '8' }],
    ],
  );
  assert.deepEqual(r.dropped, {});
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  put(join(dir, 'data_key_mic.csv'), 'id,domain,year,month,label,split\n1,food,2020,8,1,train\n');
  assert.throws(() => loadMicd(dir), /data_key_mic\.csv:1: missing column 'text' .*rehydrate the tweets/);
  put(join(dir, 'data_key_mic.csv'), 'id,domain,year,month,label,split,text\n1,food,2020,8,2,train,x\n');
  assert.throws(
    () => loadMicd(dir),
    /data_key_mic\.csv:2: unexpected label '2' \(expected one of not-commercial, commercial\)/,
  );
});

test('paper-key: tweet_id,text,label,split CSV (folder or file), extra columns, images found by id', () => {
  const dir = tempDir('paper-key-');
  put(
    join(dir, 'data_key_msd.csv'),
    'tweet_id,text,label,split,label_auto\n10,yeah right,1,train,1\n11,fine,0,dev,0\n12,ok,0,test,1\n13,gone,1,test,1\n',
  );
  putPng(join(dir, 'images', '10.png'));
  putJpeg(join(dir, '11.jpg'));
  putJpeg(join(dir, 'dataset_image', '12.jpg'));
  const r = loadPaperKey(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label, x.split, x.image, x.extra]),
    [
      ['10', '1', 'train', join(dir, 'images', '10.png'), { label_auto: '1' }],
      ['11', '0', 'dev', join(dir, '11.jpg'), { label_auto: '0' }],
      ['12', '0', 'test', join(dir, 'dataset_image', '12.jpg'), { label_auto: '1' }],
    ],
  );
  assert.deepEqual(r.dropped, {});
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  assert.deepEqual(
    loadPaperKey(join(dir, 'data_key_msd.csv')).rows.map((x) => x.id),
    ['10', '11', '12'],
  );
});
