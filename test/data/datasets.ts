// Miniature copies of each benchmark in its published layout, with the awkward cases, shared by the loader
// and CLI tests. Each builder returns a fresh temp folder.
import { join } from 'node:path';
import { put, putJpeg, putPng, tempDir } from './helpers.js';

const jsonl = (objs: object[]): string => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';

export const TIR_HEADER =
  'index,tweet_id,user_id,text,text_is_represented,image_adds,image_adds_text_repr,image_adds_text_notrepr,image_notadds_text_repr,image_notadds_text_notrepr,split';

/** MVSA-Single in its published layout, with the awkward cases. */
export function buildMvsaSingle(): string {
  const dir = tempDir('mvsa-single-');
  const labels = [
    'ID\ttext,image',
    '1\tpositive,positive', // agree
    '2\tneutral,negative', // neutral text gives way to the image
    '3\tpositive,negative', // conflict: dropped
    '4\tnegative,neutral', // Windows-1252 text file
    '5\tneutral,neutral', // image missing
    '6\tpositive,neutral', // text file missing
    '7\tPositive,Positive', // same text as 1 (a duplicate post), capitalised labels
    '1\tnegative,negative', // repeated id: dropped
  ];
  put(join(dir, 'labelResultAll.txt'), labels.join('\r\n') + '\r\n');
  const texts: Record<string, string | Buffer> = {
    '1': 'Great day at the beach! #sun http://t.co/abc',
    '2': 'Traffic again.',
    '3': 'mixed',
    '4': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x6f, 0x6b, 0x94]), // café “ok” in Windows-1252
    '5': 'no picture',
    '7': 'great day at the beach!  #sun http://t.co/xyz',
  };
  for (const [id, t] of Object.entries(texts)) put(join(dir, 'data', `${id}.txt`), t);
  for (const id of ['1', '2', '3', '4', '6', '7']) putJpeg(join(dir, 'data', `${id}.jpg`));
  return dir;
}

/** MSD in its published layout: 3-element training lines, 4-element validation/test lines. */
export function buildMsd(): string {
  const dir = tempDir('msd-');
  put(
    join(dir, 'text', 'train.txt'),
    [
      "['100', 'great , another monday # mondays', 1]",
      `['101', "what a lovely day , isn 't it", 0]`,
      "['102', 'this is sarcasm obviously', 1]", // keyword: dropped as the authors' loader does
      "['103', 'no image for this one', 0]", // image missing
      "['100', 'repeated id', 0]", // duplicate id
    ].join('\n') + '\n',
  );
  put(join(dir, 'text', 'valid2.txt'), "['200', 'love waiting in line', 1, 1]\n['201', 'nice \\'view\\'', 1, 0]\n");
  put(join(dir, 'text', 'test2.txt'), `['300', "i \\"love\\" it", 0, 1]\n`);
  for (const id of ['100', '101', '102', '200', '201', '300']) putJpeg(join(dir, 'dataset_image', `${id}.jpg`));
  return dir;
}

/** TIR as the EACL 2024 code reads it: data_key_imgtxt_random.csv and text-image/T<id>.jpg. */
export function buildTir(): string {
  const dir = tempDir('tir-');
  put(
    join(dir, 'data_key_imgtxt_random.csv'),
    [
      TIR_HEADER,
      '0,111,9,"sunset, again",1,1,1,0,0,0,train',
      '1,112,9,"lunch ""time""",0,1,0,1,0,0,train',
      '2,113,9,plain,1,0,0,0,1,0,val',
      '3,114,9,nothing,0,0,0,0,0,1,test',
      '4,6.92094E+17,9,mangled id,1,0,0,0,1,0,train',
      '5,115,9,inconsistent,1,1,0,0,0,1,train',
      '6,116,9,no image,1,1,1,0,0,0,test',
    ].join('\r\n') + '\r\n',
  );
  for (const id of ['111', '112', '113', '114', '115']) putJpeg(join(dir, 'text-image', `T${id}.jpg`));
  return dir;
}

/** MHP as the EACL 2024 code reads it: data_key_mhp.csv and Data/Images/<id>.jpg. */
export function buildMhp(): string {
  const dir = tempDir('mhp-');
  put(
    join(dir, 'data_key_mhp.csv'),
    [
      'tweet_id,text,label,split',
      '1,you people are all the same,2,train',
      '2,"nice day,\nright?",0,train',
      '3,go back,3,val',
      '4,no image,1,test',
      '5,same text,,test',
    ].join('\n'),
  );
  for (const id of ['1', '2', '3', '5']) putJpeg(join(dir, 'Data', 'Images', `${id}.jpg`));
  return dir;
}

/** Hateful Memes in its published layout (phase 2 files plus the unlabelled phase 1 test). */
export function buildHatefulMemes(): string {
  const dir = tempDir('hm-');
  put(
    join(dir, 'train.jsonl'),
    jsonl([
      { id: 42953, img: 'img/42953.png', label: 0, text: 'its their character not their color that matters' },
      { id: 23058, img: 'img/23058.png', label: 1, text: 'look who is here' },
      { id: 1235, img: 'img/01235.png', label: 0, text: 'missing picture' },
    ]),
  );
  put(
    join(dir, 'dev_seen.jsonl'),
    jsonl([{ id: 8291, img: 'img/08291.png', label: 1, text: 'white people is this a shooting range' }]),
  );
  put(
    join(dir, 'dev_unseen.jsonl'),
    jsonl([
      { id: 8291, img: 'img/08291.png', label: 1, text: 'white people is this a shooting range' },
      { id: 46971, img: 'img/46971.png', label: 0, text: 'bravery at its finest' },
    ]),
  );
  put(
    join(dir, 'test_seen.jsonl'),
    jsonl([{ id: 16395, img: 'img/16395.png', label: 1, text: 'handjobs sold seperately' }]),
  );
  put(join(dir, 'test_unseen.jsonl'), jsonl([{ id: 10584, img: 'img/10584.png', label: 0, text: 'look who is here' }]));
  put(join(dir, 'test.jsonl'), jsonl([{ id: 16395, img: 'img/16395.png', text: 'handjobs sold seperately' }]));
  for (const [k, name] of ['42953', '23058', '08291', '46971', '16395', '10584'].entries())
    putPng(join(dir, 'img', `${name}.png`), k);
  return dir;
}

/** MMHS150K in its published layout. */
export function buildMmhs(): string {
  const dir = tempDir('mmhs-');
  const gt = {
    '1114679353714016256': {
      img_url: 'u',
      labels: [4, 1, 3],
      tweet_url: 't',
      tweet_text: '@user religion racist homophobe',
      labels_str: ['Religion', 'Racist', 'Homophobe'],
    },
    '1063020048816660480': {
      img_url: 'u',
      labels: [5, 5, 0],
      tweet_url: 't',
      tweet_text: 'other hate twice',
      labels_str: ['OtherHate', 'OtherHate', 'NotHate'],
    },
    '1108927368075374593': {
      img_url: 'u',
      labels: [0, 0, 2],
      tweet_url: 't',
      tweet_text: 'mostly fine https://t.co/x',
      labels_str: ['NotHate', 'NotHate', 'Sexist'],
    },
    '1114558534635618305': { img_url: 'u', labels: [0, 1, 0], tweet_url: 't', tweet_text: 'no image', labels_str: [] },
    '1035252480215592966': {
      img_url: 'u',
      labels: [0, 0, 0],
      tweet_url: 't',
      tweet_text: 'in no split',
      labels_str: [],
    },
  };
  put(join(dir, 'MMHS150K_GT.json'), JSON.stringify(gt));
  put(join(dir, 'splits', 'train_ids.txt'), '1114679353714016256\n1063020048816660480\n');
  put(join(dir, 'splits', 'val_ids.txt'), '1108927368075374593\n');
  put(join(dir, 'splits', 'test_ids.txt'), '1114558534635618305\n9999\n');
  for (const id of ['1114679353714016256', '1063020048816660480', '1108927368075374593', '1035252480215592966'])
    putJpeg(join(dir, 'img_resized', `${id}.jpg`));
  put(join(dir, 'img_txt', '1063020048816660480.json'), JSON.stringify({ img_text: 'TEXT IN THE IMAGE' }));
  return dir;
}

/** MVSA-Multiple: three annotators per post. */
export function buildMvsaMultiple(): string {
  const dir = tempDir('mvsa-multiple-');
  put(
    join(dir, 'labelResultAll.txt'),
    [
      'ID\ttext,image\ttext,image\ttext,image',
      '10\tpositive,positive\tpositive,neutral\tnegative,positive',
      '11\tneutral,negative\tneutral,negative\tpositive,neutral',
      '12\tpositive,negative\tpositive,negative\tneutral,neutral',
      '13\tpositive,positive\tnegative,neutral\tneutral,negative',
    ].join('\n'),
  );
  for (const [k, id] of ['10', '11', '12', '13'].entries()) {
    put(join(dir, 'data', `${id}.txt`), `post ${id}`);
    putPng(join(dir, 'data', `${id}.png`), k);
  }
  return dir;
}

/** MMSD2.0: text_json_final/ and dataset_image/. */
export function buildMmsd2(): string {
  const dir = tempDir('mmsd2-');
  put(
    join(dir, 'text_json_final', 'train.json'),
    JSON.stringify([
      { image_id: '100', text: 'great , another monday', label: 0 },
      { image_id: '104', text: 'no image', label: 0 },
    ]),
  );
  put(
    join(dir, 'text_json_final', 'valid.json'),
    JSON.stringify([{ image_id: '200', text: 'love waiting', label: 1 }]),
  );
  put(join(dir, 'text_json_final', 'test.json'), JSON.stringify([{ image_id: '300', text: 'i love it', label: 0 }]));
  for (const [k, id] of ['100', '200', '300'].entries()) putPng(join(dir, 'dataset_image', `${id}.jpg`), k);
  return dir;
}

/** MICD: data_key_mic.csv with the rehydrated text column, spc_imgs_twitter/<id>_1.jpg. */
export function buildMicd(): string {
  const dir = tempDir('micd-');
  put(
    join(dir, 'data_key_mic.csv'),
    'id,domain,year,month,label,split,text\n1295433508505214976,food,2020,8,1,train,#ad try this\n895729456450588673,lifestyle,2017,8,0,val,my morning\n1098143784855093248,fitness,2019,2,0,test,no image\n',
  );
  putJpeg(join(dir, 'spc_imgs_twitter', '1295433508505214976_1.jpg'));
  putPng(join(dir, 'spc_imgs_twitter', '895729456450588673_1.jpg'), 3);
  return dir;
}

/** The paper's key CSV with images found by id. */
export function buildPaperKey(): string {
  const dir = tempDir('paper-key-');
  put(
    join(dir, 'data_key_msd.csv'),
    'tweet_id,text,label,split,label_auto\n10,yeah right,1,train,1\n11,fine,0,dev,0\n12,ok,0,test,1\n13,gone,1,test,1\n',
  );
  putPng(join(dir, 'images', '10.png'));
  putJpeg(join(dir, '11.jpg'));
  putPng(join(dir, 'dataset_image', '12.jpg'), 5);
  return dir;
}

/**
 * A generic file with leakage: the same text (up to case, spacing and t.co links) in train and test, the same
 * image bytes under two names in train and dev, an unreadable image and an empty text-only post.
 */
export function buildGenericLeaky(): string {
  const dir = tempDir('generic-');
  putPng(join(dir, 'img', 'x1.png'), 1);
  putPng(join(dir, 'img', 'x2.png'), 2);
  putPng(join(dir, 'img', 'x3.png'), 1); // same bytes as x1.png
  put(join(dir, 'img', 'bad.jpg'), '<html>404</html>');
  put(
    join(dir, 'posts.jsonl'),
    jsonl([
      { id: 'a', text: 'Same words here http://t.co/1', image: 'img/x1.png', label: 'pos', split: 'train' },
      { id: 'b', text: 'same  words HERE https://t.co/2', image: 'img/x2.png', label: 'neg', split: 'test' },
      { id: 'c', text: 'unique c', image: 'img/x3.png', label: 'pos', split: 'dev' },
      { id: 'd', text: 'unique d', image: 'img/bad.jpg', label: 'neg', split: 'train' },
      { id: 'e', text: '', image: null, label: 'neg', split: 'train' },
    ]),
  );
  return dir;
}
